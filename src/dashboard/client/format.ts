/** Numbers for axis ticks and the hover readout: short, exponent beyond four significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(3);
  return String(Number(value.toPrecision(5)));
}

/** Axis ticks: at most about eight characters, so the axis never cuts them. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${formatValue(seconds)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

/** Counts of non-finite values, for the legend: "2 NaN, 1 +Inf"; empty when there are none. */
export function nonFiniteText(nan: number, posInf: number, negInf: number): string {
  const parts: string[] = [];
  if (nan > 0) parts.push(`${nan} NaN`);
  if (posInf > 0) parts.push(`${posInf} +Inf`);
  if (negInf > 0) parts.push(`${negInf} −Inf`);
  return parts.join(', ');
}
