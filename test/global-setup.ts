/**
 * Tests spawn `dist/` children (the CLI, the demo, workers). `npx vitest run <file>` skips
 * `npm run build`, so without this a spawned child would run whatever was built last, not the code
 * under test. Builds once per run when any source is newer than the oldest compiled file, or a
 * source has no compiled file yet.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCES = ['src', 'bench'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function files(dir: string, ending: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .flatMap((entry) =>
      entry.isFile() && entry.name.endsWith(ending) ? [path.join(entry.parentPath, entry.name)] : [],
    );
}

/** Folders tsconfig.build.json leaves to another build step (bundled, not one .js per .ts). */
function excludedFolders(root: string): string[] {
  const config = path.join(root, 'tsconfig.build.json');
  if (!fs.existsSync(config)) return [];
  const { exclude = [] } = JSON.parse(fs.readFileSync(config, 'utf8')) as { exclude?: string[] };
  return exclude.map((entry) => path.join(root, entry) + path.sep);
}

/** Why dist/ is stale, or undefined when every source has a compiled file newer than it. */
export function staleReason(root: string): string | undefined {
  let oldestBuilt = Infinity;
  const excluded = excludedFolders(root);
  for (const source of SOURCES) {
    for (const file of files(path.join(root, source), '.ts')) {
      // Bundled sources have no compiled file of their own; their edits still count as newer below.
      if (file.endsWith('.d.ts') || excluded.some((folder) => file.startsWith(folder))) continue;
      const built = path.join(root, 'dist', path.relative(root, file)).replace(/\.ts$/, '.js');
      if (!fs.existsSync(built)) return `${path.relative(root, built)} does not exist`;
      oldestBuilt = Math.min(oldestBuilt, fs.statSync(built).mtimeMs);
    }
  }
  const inputs = [...SOURCES.flatMap((source) => files(path.join(root, source), '.ts')), ...CONFIGS];
  for (const input of inputs) {
    const full = path.isAbsolute(input) ? input : path.join(root, input);
    if (fs.existsSync(full) && fs.statSync(full).mtimeMs > oldestBuilt) {
      return `${path.relative(root, full)} is newer than the build`;
    }
  }
  return undefined;
}

export default function setup(): void {
  const reason = staleReason(ROOT);
  if (reason === undefined) return;
  process.stderr.write(`test setup: rebuilding dist/ (${reason})\n`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
