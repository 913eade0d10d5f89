/**
 * The README's benchmark table, written from one full `npm run bench -- --readme` run between
 * two markers, with the date and the machine; never typed by hand. Only labelled figures go
 * in; the rest stay in the run's own output.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { REPO } from "./scratch.ts";
import { tableCells, type Figure } from "./report.ts";

export const BEGIN = "<!-- bench:begin (written by npm run bench -- --readme; do not edit) -->";
export const END = "<!-- bench:end -->";

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** One-minute load averages when the run started and ended: how shared the machine was. */
  loadAtStart: number;
  loadAtEnd: number;
}

export function machineNow(loadAtStart: number): Machine {
  const cpu = cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAtStart,
    loadAtEnd: loadavg()[0]!,
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

/** The block between the markers: a note on the run, then one row per labelled figure. */
export function benchBlock(figures: readonly Figure[], m: Machine): string {
  const rows = figures
    .filter((f) => f.label)
    .map((f) => {
      const c = tableCells(f);
      const reference = f.reference ? `${c.baseline} (${f.reference})` : c.baseline;
      return `| ${f.suite} | ${cell(f.label!)} | ${c.value} | ${cell(reference)} | ${c.ratio} | ${c.target} | ${c.met} |`;
    });
  return [
    BEGIN,
    `Written by \`npm run bench -- --readme\` on ${m.date}: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}.`,
    `The machine is shared with other work (load average ${m.loadAtStart.toFixed(1)} at the start, ${m.loadAtEnd.toFixed(1)} at the end), so`,
    "absolute figures are noisy; each ratio is against a reference measured in the same run on the same machine, which",
    "keeps it meaningful. Every figure of the run: `npm run bench -- --json`.",
    "",
    "| suite | figure | measured | reference | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    END,
  ].join("\n");
}

/** `text` with the block between the markers replaced; throws when the markers are missing. */
export function replaceBlock(text: string, block: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README has no benchmark markers (${BEGIN} … ${END})`);
  return text.slice(0, start) + block + text.slice(end + END.length);
}

export function writeReadme(figures: readonly Figure[], m: Machine, file = join(REPO, "README.md")): void {
  writeFileSync(file, replaceBlock(readFileSync(file, "utf8"), benchBlock(figures, m)));
}
