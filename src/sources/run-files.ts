/**
 * The file names that make a folder a TensorBoard or W&B run. Apart from the readers, so finding
 * runs (discover-sources.ts) does not load them: a dashboard of NDJSON streams never does.
 */

/** A TensorBoard event file (`events.out.tfevents.<time>.<host>...`). */
export const EVENT_FILE = /^events\.out\.tfevents\./;

/** A W&B run's transaction log (`run-<id>.wandb`). */
export const WANDB_LOG = /^run-.+\.wandb$/;
