/**
 * `npm run bench -- [suite...] [--json]`: runs the named suites (all when none is named)
 * and prints their figures as a table, or with --json as one JSON object per line.
 */
import { formatJsonLines, formatTable } from "./report.ts";
import type { Figure, SuiteRun } from "./report.ts";

// One line per suite; modules load only when their suite runs.
const SUITES: Record<string, () => Promise<{ run: SuiteRun }>> = {
  layers: () => import("./layers.ts"),
  write: () => import("./write.ts"),
  pull: () => import("./pull.ts"),
  serve: () => import("./serve.ts"),
};

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const names = argv.filter((a) => !a.startsWith("--"));
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(", ")}; known: ${Object.keys(SUITES).join(", ")}`);
    return 2;
  }
  const figures: Figure[] = [];
  for (const name of names.length > 0 ? names : Object.keys(SUITES)) {
    const suite = await SUITES[name]!();
    const started = performance.now();
    figures.push(...(await suite.run({ note: (m) => console.error(`[${name}] ${m}`) })));
    console.error(`[${name}] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  console.log(json ? formatJsonLines(figures) : formatTable(figures));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
