/**
 * `npm run bench -- [suite...] [--json] [--tiny] [--readme] [--list]`: runs the named suites (all when
 * none is named) and prints their figures as a table, or with --json as one JSON object per
 * line. --tiny runs every suite on tiny inputs (what the bench test does: figures meaningless,
 * code paths real). --readme, on a full run of every suite, writes the labelled figures into
 * the README between its markers, with the date and the machine. --list prints the suites' names.
 */
import { loadavg } from "node:os";
import { formatJsonLines, formatTable } from "./report.ts";
import type { Figure, SuiteRun } from "./report.ts";
import { machineNow, writeReadme } from "./readme.ts";

// One line per suite; modules load only when their suite runs.
const SUITES: Record<string, () => Promise<{ run: SuiteRun }>> = {
  layers: () => import("./layers.ts"),
  write: () => import("./write.ts"),
  pull: () => import("./pull.ts"),
  serve: () => import("./serve.ts"),
  setup: () => import("./setup.ts"),
  load: () => import("./cold-pulls.ts"),
  sources: () => import("./sources.ts"),
};

const FLAGS = ["--json", "--tiny", "--readme", "--list"];

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const names = argv.filter((a) => !a.startsWith("--"));
  const unknown = [...names.filter((n) => !(n in SUITES)), ...[...flags].filter((f) => !FLAGS.includes(f))];
  if (unknown.length > 0) {
    console.error(`unknown suite(s) or flag(s): ${unknown.join(", ")}; suites: ${Object.keys(SUITES).join(", ")}; flags: ${FLAGS.join(" ")}`);
    return 2;
  }
  if (flags.has("--list")) {
    console.log(Object.keys(SUITES).join("\n"));
    return 0;
  }
  const tiny = flags.has("--tiny");
  const readme = flags.has("--readme");
  if (readme && (tiny || names.length > 0)) {
    console.error("--readme takes figures from one full run only: no suite names, no --tiny");
    return 2;
  }
  const loadAtStart = loadavg()[0]!;
  const figures: Figure[] = [];
  for (const name of names.length > 0 ? names : Object.keys(SUITES)) {
    const suite = await SUITES[name]!();
    const started = performance.now();
    figures.push(...(await suite.run({ note: (m) => console.error(`[${name}] ${m}`), tiny })));
    console.error(`[${name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log(flags.has("--json") ? formatJsonLines(figures) : formatTable(figures));
  if (readme) {
    writeReadme(figures, machineNow(loadAtStart));
    console.error("README.md: benchmark table written");
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
