/** The package version, for `-V` / `--version` of every command of both CLIs. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The nearest package.json above this file: `dist/src/...` when built, `src/...` under tests. */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const file = fileURLToPath(new URL(up, import.meta.url));
    if (fs.existsSync(file))
      return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
}
