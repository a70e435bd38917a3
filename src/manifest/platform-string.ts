/**
 * A platform string in the spirit of Python's `platform.platform()`
 * (`Linux-6.1.0-x86_64-with-glibc2.36`), so manifests written by Node and by Python trainers read
 * alike. Built from `os` and the glibc version in `process.report`; never spawns a process.
 */
import os from 'node:os';

let cached: string | undefined;

export function platformString(): string {
  cached ??= build();
  return cached;
}

function build(): string {
  // os.machine() gives uname's spelling (x86_64, aarch64), as Python does; os.arch() would say x64.
  // On Linux this matches Python exactly; elsewhere it keeps uname's names (Darwin, not macOS).
  const parts = [os.type(), os.release(), os.machine()];
  const glibc = glibcVersion();
  const text = parts.join('-') + (glibc === undefined ? '' : `-with-glibc${glibc}`);
  // Python strips spaces and collapses repeated dashes; match it so the strings compare.
  return text.replace(/ /g, '_').replace(/-{2,}/g, '-');
}

function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  // The report's header carries the runtime glibc version; skipping the network section keeps it
  // to a few milliseconds, paid once per process.
  // excludeNetwork exists since Node 20.13 but is missing from @types/node 20.
  const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
  const previous = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: unknown } }).header;
    const version = header?.glibcVersionRuntime;
    return typeof version === 'string' && version.length > 0 ? version : undefined;
  } finally {
    report.excludeNetwork = previous;
  }
}
