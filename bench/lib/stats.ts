// Small statistics and formatting helpers for the bench: medians, percentiles, min/max.

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many samples the figures are drawn from. */
  samples: number;
}

/** The value at quantile q (0..1) of sorted values, by linear interpolation between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function sortNumbers(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortNumbers(values);
  return { median: quantile(sorted, 0.5), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN, samples: sorted.length };
}

export function median(values: readonly number[]): number {
  return quantile(sortNumbers(values), 0.5);
}

/** Rounds to `digits` significant digits, so JSON and tables carry no false precision. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

export function roundSummary(summary: Summary, digits = 3): Summary {
  return { median: round(summary.median, digits), min: round(summary.min, digits), max: round(summary.max, digits), samples: summary.samples };
}

/** `12.3 (11.9–14.0)`: median, then min–max. */
export function fmtSummary(summary: Summary, digits = 3): string {
  return `${fmt(summary.median, digits)} (${fmt(summary.min, digits)}–${fmt(summary.max, digits)})`;
}

export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const r = round(value, digits);
  return Math.abs(r) >= 1e4 ? Math.round(r).toLocaleString('en-US') : String(r);
}

export function fmtBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${fmt(bytes / 1024 ** 3)} GiB`;
  if (abs >= 1024 * 1024) return `${fmt(bytes / 1024 / 1024)} MiB`;
  if (abs >= 1024) return `${fmt(bytes / 1024)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A plain-text table with aligned columns, for the terminal. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A GitHub-flavoured markdown table; the first column left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(esc).join(' | ')} |`),
  ].join('\n');
}
