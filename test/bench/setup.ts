/**
 * Suite `setup`: what the set-up step of `npm start` and of `npm test` costs when everything
 * is already there (a check, not a reinstall: under a second). Each runs as a process of its
 * own, alternating with a bare `node -e 0`; a figure is the fastest set-up run minus the
 * fastest bare run — a fixed cost, which the fastest run shows least disturbed on a shared
 * machine. The host must be set up (run `npm test` once): a set-up that would install
 * anything is an error here, not a figure. Tiny mode: two runs of each.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { figure, type Figure, type SuiteRun } from "./report.ts";

const SUITE = "setup";
const ROOT = new URL("../..", import.meta.url).pathname;

const COMMANDS = {
  start: [join(ROOT, "setup/start.mjs"), "server/main.ts", "--registry"],
  test: ["--input-type=module", "-e", `import(${JSON.stringify(join(ROOT, "setup/tests.mjs"))}).then((m) => m.setUpForTests(console.log))`],
  bare: ["-e", "0"],
};

/** Wall time of one run in ms; throws when the set-up had anything to do or failed. */
function timed(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, NIXPORT_SETUP_ONLY: "1" } });
  const ms = performance.now() - started;
  if (r.status !== 0 || r.stdout.trim()) throw new Error(`set-up is not a check here (run npm test once first): ${r.stdout}${r.stderr}`.trim());
  return ms;
}

export const run: SuiteRun = async ({ note, tiny }) => {
  const runs = tiny ? 2 : 15;
  const best = { start: Infinity, test: Infinity, bare: Infinity };
  for (let i = 0; i < runs; i++) {
    for (const name of ["bare", "start", "test"] as const) best[name] = Math.min(best[name], timed(COMMANDS[name]));
  }
  note(`fastest of ${runs}: bare node ${best.bare.toFixed(0)} ms, npm start set-up ${best.start.toFixed(0)} ms, npm test set-up ${best.test.toFixed(0)} ms`);
  const overhead = (name: "start" | "test", label: string): Figure =>
    figure(SUITE, `setup.${name}_overhead_ms`, Math.round(best[name] - best.bare), "ms", { label, target: { of: "value", max: 1000 } });
  return [overhead("start", "npm start's set-up step with everything there"), overhead("test", "npm test's set-up step with everything there")];
};
