// Mutation score per folder from Stryker's JSON report (reports/mutation/mutation.json), for
// MUTATION.md. With `--before=<git ref>`, also the score the tests of that commit would have had:
// a mutant counts as killed "before" only when a test file unchanged since <ref> killed it (the
// run uses disableBail, so killedBy lists every killing test). Tests in files changed since then
// are left out entirely, so "before" is a lower bound.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const reportPath = process.argv.find((a) => a.endsWith('.json')) ?? 'reports/mutation/mutation.json';
const before = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));

const testFileOf = new Map();
for (const [file, { tests }] of Object.entries(report.testFiles ?? {})) {
  for (const test of tests) testFileOf.set(test.id, file);
}
const changed = new Set(
  before === undefined
    ? []
    : execFileSync('git', ['diff', '--name-only', before, 'HEAD', '--', 'test'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean),
);
const unchangedSince = (testId) => {
  const file = testFileOf.get(testId);
  return file !== undefined && !changed.has(path.relative(process.cwd(), path.resolve(file)));
};

const DETECTED = new Set(['Killed', 'Timeout']);
const VALID = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const folders = new Map();
const survivors = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  const folder = path.dirname(file);
  const row = folders.get(folder) ?? { valid: 0, detected: 0, detectedBefore: 0 };
  for (const mutant of mutants) {
    if (!VALID.has(mutant.status)) continue;
    row.valid++;
    if (DETECTED.has(mutant.status)) row.detected++;
    const killedBefore =
      mutant.status === 'Timeout' || (mutant.killedBy ?? []).some((id) => unchangedSince(id));
    if (DETECTED.has(mutant.status) && killedBefore) row.detectedBefore++;
    if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
      survivors.push(
        `${file}:${mutant.location.start.line} ${mutant.mutatorName} -> ${JSON.stringify(mutant.replacement ?? '')} (${mutant.status})`,
      );
    }
  }
  folders.set(folder, row);
}
const pct = (a, b) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
console.log(`| folder | mutants | ${before ? 'before | ' : ''}after |`);
console.log(`| --- | --- | ${before ? '--- | ' : ''}--- |`);
const total = { valid: 0, detected: 0, detectedBefore: 0 };
for (const [folder, row] of [...folders].sort()) {
  total.valid += row.valid;
  total.detected += row.detected;
  total.detectedBefore += row.detectedBefore;
  console.log(
    `| ${folder} | ${row.valid} | ${before ? `${pct(row.detectedBefore, row.valid)} | ` : ''}${pct(row.detected, row.valid)} |`,
  );
}
console.log(
  `| all | ${total.valid} | ${before ? `${pct(total.detectedBefore, total.valid)} | ` : ''}${pct(total.detected, total.valid)} |`,
);
if (process.argv.includes('--survivors')) for (const line of survivors) console.log(line);

// `--core`: the issue's core behaviours, each with the files that carry it, and how many of their
// mutants survive (every survivor there must be listed in MUTATION.md as equivalent, with why).
const CORE = {
  CRCs: ['src/formats/codec/crc32c.ts', 'src/formats/codec/tfrecord.ts', 'src/formats/wandb/log-framing.ts'],
  'non-finite spelling': [
    'src/ndjson/line/encode-line.ts',
    'src/formats/wandb/value-json.ts',
    'src/formats/tensorboard/event-encoder.ts',
  ],
  'int64 steps in every sink': [
    'src/ndjson/line/encode-line.ts',
    'src/formats/codec/protobuf-wire.ts',
    'src/formats/codec/proto-writer.ts',
    'src/formats/tensorboard/scalars-record.ts',
    'src/formats/tensorboard/event-encoder.ts',
    'src/formats/wandb/history-rows.ts',
    'src/formats/wandb/history-encoder.ts',
    'src/formats/wandb/record-codec.ts',
  ],
  'reading steps and values back (non-finite, int64)': [
    'src/ndjson/line/parse-record.ts',
    'src/ndjson/line/fast-line.ts',
    'src/ndjson/line/scan-number.ts',
  ],
  'summarize min/max/mean': ['src/summarize/aggregator.ts'],
  'malformed counting': [
    'src/ndjson/line/line-processor.ts',
    'src/ndjson/line/slow-line.ts',
    'src/ndjson/line/line-splitter.ts',
  ],
  'rotation without loss': [
    'src/exporters/file/rotation-policy.ts',
    'src/ndjson/segments.ts',
    'src/exporters/ndjson/segment-maintenance.ts',
    'src/exporters/ndjson/ndjson-exporter.ts',
  ],
  codex_sink_up: ['src/health.ts', 'src/instruments/training-instruments.ts'],
};
if (process.argv.includes('--core')) {
  console.log('\n| behaviour | files | mutants | killed or timed out | survived |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [behaviour, files] of Object.entries(CORE)) {
    let valid = 0;
    let detected = 0;
    for (const file of files) {
      for (const mutant of report.files[file]?.mutants ?? []) {
        if (!VALID.has(mutant.status)) continue;
        valid++;
        if (DETECTED.has(mutant.status)) detected++;
      }
    }
    const names = files.map((file) => path.basename(file)).join(', ');
    console.log(`| ${behaviour} | ${names} | ${valid} | ${detected} | ${valid - detected} |`);
  }
}
