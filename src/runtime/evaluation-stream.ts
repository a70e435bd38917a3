/** An evaluation stream: same schema as training, its own file, `tags.phase = "eval"`. */
import { nextStep, type Step } from '../step.js';
import type { Scalars } from './scalars.js';

/** What the stream needs from the run (the Telemetry facade). */
export interface EvalRecorder {
  recordEval(stream: string, values: Scalars, step: Step): boolean;
}

export class EvaluationStream {
  readonly metricsFilename: string;
  private readonly recorder: EvalRecorder;
  private nextStep: Step | undefined = 0;

  constructor(recorder: EvalRecorder, metricsFilename: string) {
    this.recorder = recorder;
    this.metricsFilename = metricsFilename;
  }

  /** Logs evaluation scalars for a step (usually the training step the eval ran at). */
  log(values: Scalars, options: { step?: Step } = {}): boolean {
    const step = options.step ?? this.nextStep;
    if (step === undefined) return false;
    const accepted = this.recorder.recordEval(this.metricsFilename, values, step);
    if (accepted) this.nextStep = nextStep(step);
    return accepted;
  }
}
