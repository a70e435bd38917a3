/** The reproducibility variables a manifest records: a fixed set plus the caller's, only those set. */

export const DEFAULT_ENV_KEYS = ['PYTHONHASHSEED', 'CODEX_AUDIT', 'CODEX_DDP'] as const;

/** Extra keys from `CODEX_MANIFEST_ENV` (comma- or space-separated), for trainers that use the CLI. */
export function envKeysFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env.CODEX_MANIFEST_ENV ?? '').split(/[\s,]+/).filter((key) => key.length > 0);
}

export function selectEnv(env: NodeJS.ProcessEnv, extraKeys: readonly string[] = []): Record<string, string> {
  const selected: Record<string, string> = {};
  for (const key of new Set([...DEFAULT_ENV_KEYS, ...extraKeys])) {
    const value = env[key];
    if (value !== undefined) selected[key] = value;
  }
  return selected;
}
