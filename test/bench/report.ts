/** Benchmark figures and how they are printed: a table for people, JSON lines for tools. */

export interface Figure {
  suite: string;
  /** Dotted name, e.g. `layers.group_ms_50k`. */
  name: string;
  value: number;
  unit: string;
  /** The value of the reference this figure is compared with, in the same unit. */
  baseline?: number;
  /** value ÷ baseline. */
  ratio?: number;
}

/** What a suite may use while it runs: notes go to stderr, so `--json` stdout stays clean. */
export interface SuiteContext {
  note(message: string): void;
}

/** A suite module exports `run`. */
export type SuiteRun = (ctx: SuiteContext) => Promise<Figure[]>;

/** A figure compared with a baseline; the ratio is left out when the baseline is 0. */
export function compared(suite: string, name: string, value: number, unit: string, baseline: number): Figure {
  const figure: Figure = { suite, name, value, unit, baseline };
  if (baseline !== 0) figure.ratio = value / baseline;
  return figure;
}

export function formatJsonLines(figures: readonly Figure[]): string {
  return figures.map((f) => JSON.stringify(f)).join("\n");
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = [
    ["name", "value", "unit", "baseline", "ratio"],
    ...figures.map((f) => [f.name, num(f.value), f.unit, f.baseline === undefined ? "" : num(f.baseline), f.ratio === undefined ? "" : f.ratio.toFixed(3)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 || c === 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}

function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3);
}
