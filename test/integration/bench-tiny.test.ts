/**
 * Every benchmark suite, run as `npm run bench` runs it but in tiny mode, from a scratch root
 * that does not exist yet (as in a fresh clone): a broken benchmark fails here, not on the
 * day someone measures. Its figures are checked for the schema, not for their values.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { targetMet, type Figure } from "../bench/report.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "nixport-bench-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function bench(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "test/bench/main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NIXPORT_BENCH_DIR: join(scratch, "never-made", "bench") },
    maxBuffer: 16 << 20,
    // spawnSync blocks vitest's own timeout: a suite that hangs is killed here and fails,
    // instead of holding the whole test run until CI gives up.
    timeout: 280_000,
    killSignal: "SIGKILL",
  });
}

const suites = bench(["--list"]).stdout.trim().split("\n");

describe("npm run bench -- SUITE --tiny --json", () => {
  it("lists the suites", () => {
    expect(suites).toEqual(expect.arrayContaining(["layers", "write", "pull", "serve"]));
  });

  it.each(suites)("%s runs and prints well-formed figures", (suite) => {
    const r = bench([suite, "--tiny", "--json"]);
    expect(r.status, `${r.signal ? `killed by ${r.signal} after 280 s\n` : ""}${r.stderr.slice(-3000)}`).toBe(0);
    const figures = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Figure);
    expect(figures.length).toBeGreaterThan(0);
    for (const f of figures) {
      expect(f.suite).toBe(suite);
      expect(f.name.startsWith(`${suite}.`), f.name).toBe(true);
      expect(Number.isFinite(f.value), f.name).toBe(true);
      expect(f.unit, f.name).not.toBe("");
      if (f.ratio !== undefined) expect(f.ratio, f.name).toBeCloseTo(f.value / f.baseline!, 9);
      if (f.baseline !== undefined && f.baseline !== 0) expect(f.ratio, f.name).toBeDefined();
      expect(f.met === undefined, f.name).toBe(f.target === undefined);
      if (f.target) expect(f.met, f.name).toBe(targetMet(f, f.target));
    }
  }, 300_000);

  it("refuses --readme on anything but a full run, leaving the README alone", () => {
    const r = bench(["write", "--readme"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("one full run");
  });
});
