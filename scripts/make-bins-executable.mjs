// tsc writes the bin files without the execute bit; npx and the shell need it to run them.
import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(pkg.bin)) fs.chmodSync(new URL(`../${file}`, import.meta.url), 0o755);
