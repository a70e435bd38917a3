/**
 * Which way is better for a metric: lower for losses and errors, higher for accuracies and
 * scores, judged from the words of its name; `--goal name=min|max` overrides. Unknown names (lr,
 * grad_norm) have no best value rather than a guessed one.
 */
export type Goal = 'min' | 'max';

const LOWER = new Set([
  'loss',
  'error',
  'err',
  'perplexity',
  'ppl',
  'nll',
  'mse',
  'mae',
  'rmse',
  'wer',
  'cer',
  'ter',
  'latency',
  'distance',
  'regret',
  'kl',
  'divergence',
  'fid',
]);
const HIGHER = new Set([
  'acc',
  'accuracy',
  'f1',
  'precision',
  'recall',
  'auc',
  'auroc',
  'bleu',
  'rouge',
  'map',
  'iou',
  'miou',
  'score',
  'reward',
  'return',
  'exact',
  'em',
  'throughput',
  'r2',
  'top1',
  'top5',
  'sps',
  'tps',
]);

export function goalFor(name: string, overrides: ReadonlyMap<string, Goal>): Goal | undefined {
  const given = overrides.get(name);
  if (given !== undefined) return given;
  const words = name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  // Rates such as tokens_per_s or samples_per_sec: more is better.
  if (words.includes('per') && /^(s|sec|second)$/.test(words[words.length - 1] ?? '')) return 'max';
  // The last word decides (eval/loss_acc is unusual; val_acc_loss means a loss), then any word.
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i] as string;
    if (LOWER.has(word)) return 'min';
    if (HIGHER.has(word)) return 'max';
  }
  return undefined;
}
