/**
 * Which run a row belongs to: a run is its run id (and rank), not its file. A stream's first run id
 * takes the stream's run name (its folder, or `folder · id` for a per-run file); a later run id in
 * the same stream (a second run appended to the same file) is a run of its own, `folder · id`.
 */
import type { StreamSpec } from './discover.js';

export class RunNames {
  private first: string | undefined;
  private readonly names = new Map<string, string>();

  constructor(private readonly spec: StreamSpec) {}

  /** The run name for rows carrying `runId` ('' when they carry none). */
  name(runId: string): string {
    let name = this.names.get(runId);
    if (name === undefined) {
      this.first ??= runId;
      name =
        runId === this.first || runId === '' || runId === this.spec.runId
          ? this.spec.run
          : `${this.spec.folder ?? this.spec.run} · ${runId}`;
      this.names.set(runId, name);
    }
    return name;
  }
}
