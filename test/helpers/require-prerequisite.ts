/**
 * For tests that need something of the machine (a tool, /proc, a second file system): when it is
 * missing, fail under CI (the suite must not pass without testing it) and otherwise skip through
 * the runner with the reason, so the run reports what it did not test. Never an early `return`,
 * which vitest would count as passed.
 */
export function requirePrerequisite(present: boolean, what: string, skip: (note: string) => never): void {
  if (present) return;
  if (process.env.CI) throw new Error(`${what} is required in CI; this test does not skip there`);
  skip(`skipped: ${what} is missing on this machine`);
}
