/**
 * Benchmark figures and how they are printed: a table for people, JSON lines for tools.
 * One schema for every figure: `value` in `unit`; a comparison adds the reference measured
 * in the same run (`baseline`) and `ratio` = value ÷ baseline, never anything else; a goal
 * lives in `target` (bounds on the value or on the ratio) and `met` says whether it holds.
 */

/** Bounds on one field of a figure; either or both of `min` and `max`. */
export interface Target {
  of: "value" | "ratio";
  min?: number;
  max?: number;
}

export interface Figure {
  suite: string;
  /** Dotted name, e.g. `layers.group_ms_50k`. */
  name: string;
  value: number;
  unit: string;
  /** The reference this figure is compared with, measured in the same run, in the same unit. */
  baseline?: number;
  /** value ÷ baseline. */
  ratio?: number;
  target?: Target;
  /** Whether `target` holds; present exactly when `target` is. */
  met?: boolean;
  /** What the figure is, in words: figures with a label go into the README's table. */
  label?: string;
  /** What the baseline is, in words (for the README's table). */
  reference?: string;
}

/** What a suite may use while it runs: notes go to stderr, so `--json` stdout stays clean. */
export interface SuiteContext {
  note(message: string): void;
  /**
   * Tiny mode: the same code paths on inputs small enough for a test (seconds, not minutes),
   * so a broken benchmark fails CI. Its figures mean nothing; every suite must honour it.
   */
  tiny: boolean;
}

/** A suite module exports `run`. */
export type SuiteRun = (ctx: SuiteContext) => Promise<Figure[]>;

/** Words for the README, and a goal, that any figure may carry. */
export interface FigureExtras {
  target?: Target;
  label?: string;
  reference?: string;
}

/** A figure with no reference. */
export function figure(suite: string, name: string, value: number, unit: string, extras: FigureExtras = {}): Figure {
  return withTarget({ suite, name, value, unit, ...words(extras) }, extras.target);
}

/** A figure compared with a baseline; the ratio is left out when the baseline is 0. */
export function compared(suite: string, name: string, value: number, unit: string, baseline: number, extras: FigureExtras = {}): Figure {
  const f: Figure = { suite, name, value, unit, baseline, ...words(extras) };
  if (baseline !== 0) f.ratio = value / baseline;
  return withTarget(f, extras.target);
}

function words(extras: FigureExtras): Pick<Figure, "label" | "reference"> {
  return { ...(extras.label ? { label: extras.label } : {}), ...(extras.reference ? { reference: extras.reference } : {}) };
}

function withTarget(f: Figure, target: Target | undefined): Figure {
  if (!target) return f;
  if (target.of === "ratio" && f.baseline === undefined) throw new Error(`${f.name}: a ratio target needs a baseline`);
  return { ...f, target, met: targetMet(f, target) };
}

/** A missing ratio (baseline 0) never meets a ratio target. */
export function targetMet(f: Pick<Figure, "value" | "ratio">, target: Target): boolean {
  const x = target.of === "value" ? f.value : f.ratio;
  if (x === undefined || !Number.isFinite(x)) return false;
  return (target.min === undefined || x >= target.min) && (target.max === undefined || x <= target.max);
}

/** `ratio ≥ 0.8`, `value ≤ 200`, `0.95 ≤ ratio ≤ 1.05`. */
export function formatTarget(t: Target): string {
  if (t.min !== undefined && t.max !== undefined) {
    return t.min === t.max ? `${t.of} = ${num(t.min)}` : `${num(t.min)} ≤ ${t.of} ≤ ${num(t.max)}`;
  }
  return t.min !== undefined ? `${t.of} ≥ ${num(t.min)}` : `${t.of} ≤ ${num(t.max!)}`;
}

export function formatJsonLines(figures: readonly Figure[]): string {
  return figures.map((f) => JSON.stringify(f)).join("\n");
}

/** The five columns people read, for one figure: figure, reference, ratio, target, met. */
export function tableCells(f: Figure): { value: string; baseline: string; ratio: string; target: string; met: string } {
  return {
    value: `${num(f.value)} ${f.unit}`,
    baseline: f.baseline === undefined ? "" : `${num(f.baseline)} ${f.unit}`,
    ratio: f.ratio === undefined ? "" : f.ratio.toFixed(3),
    target: f.target ? formatTarget(f.target) : "",
    met: f.met === undefined ? "" : f.met ? "yes" : "NO",
  };
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = [
    ["name", "figure", "reference", "ratio", "target", "met"],
    ...figures.map((f) => {
      const c = tableCells(f);
      return [f.name, c.value, c.baseline, c.ratio, c.target, c.met];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 || c >= 4 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n");
}

export function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3);
}
