#!/usr/bin/env node
// `npm test`: set the host up (setup/tests.mjs: npm dependencies, system packages, Nix),
// then typecheck, lint and every vitest project. Prints one closing line `N passed, N failed`
// computed from the runners' JSON results (CI reads that line).
//   NIXPORT_TEST_ONLY=node|edge  one vitest config only, no typecheck or lint; further
//   arguments go to vitest, e.g. `NIXPORT_TEST_ONLY=node npm test -- test/unit/prng.test.ts`.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SetupError } from "../setup/host.mjs";
import { setUpForTests } from "../setup/tests.mjs";

const root = new URL("..", import.meta.url).pathname;
const outDir = join(root, ".tmp", "test-results");
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

try {
  setUpForTests((line) => console.log(`npm test: ${line}`));
} catch (e) {
  if (!(e instanceof SetupError)) throw e;
  console.log(`npm test: ${e.message}`);
  finish(0, 1);
}

// Every temp folder the tests make (stores, registries, podman and docker state, GC roots)
// goes under one scratch folder that is removed at the end, so runs leave nothing in /tmp.
// NIXPORT_KEEP_TMP=1 keeps it for a post-mortem.
const scratch = mkdtempSync(join(tmpdir(), "nixport-test-"));
chmodSync(scratch, 0o711); // tests that run a step as nobody reach their own folders in it
const env = { ...process.env, TMPDIR: scratch };

const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

function step(name, cmd, args) {
  console.log(`\n== ${name}: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  const ok = r.status === 0;
  if (ok) passed++;
  else failed++;
  console.log(`== ${name}: ${ok ? "ok" : `FAILED (exit ${r.status ?? r.signal})`}`);
  return ok;
}

function vitest(name, config) {
  const json = join(outDir, `${name}.json`);
  console.log(`\n== ${name}: vitest`);
  const r = spawnSync(
    "npx",
    ["vitest", "run", "--config", config, "--reporter=default", "--reporter=json", `--outputFile.json=${json}`, ...extra],
    { cwd: root, stdio: "inherit", env },
  );
  if (!existsSync(json)) {
    console.log(`== ${name}: no results (exit ${r.status ?? r.signal})`);
    failed++;
    return;
  }
  const res = JSON.parse(readFileSync(json, "utf8"));
  passed += res.numPassedTests;
  failed += res.numFailedTests;
  skipped += res.numPendingTests + (res.numTodoTests ?? 0);
  // A suite that failed to load counts as a failure even when it reported no tests.
  const broken = res.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0);
  failed += broken.length;
  for (const f of broken) console.log(`== failed to run: ${f.name}: ${f.message}`);
  if (r.status !== 0 && res.numFailedTests === 0 && broken.length === 0) failed++;
}

const only = process.env.NIXPORT_TEST_ONLY; // e.g. "unit" to run one project while developing
if (!only) {
  step("typecheck", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]);
  step("lint", "node", ["test/lint.mjs"]);
}
if (!only || only === "node") vitest("node", "vitest.config.ts");
if ((!only || only === "edge") && existsSync(join(root, "test/edge/vitest.config.ts"))) {
  vitest("edge", "test/edge/vitest.config.ts");
}

removeScratch(scratch);

/** Unmounts whatever a crashed client left mounted below `dir` (deepest first), then removes it. */
function removeScratch(dir) {
  if (process.env.NIXPORT_KEEP_TMP) return console.log(`\n(test temp files kept in ${dir})`);
  try {
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
      .filter((m) => m?.startsWith(dir + "/"))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync("umount", ["-l", m], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    console.log(`\n(could not remove the test temp folder ${dir}: ${err.message})`);
  }
}

finish(passed, failed, skipped);

/** Prints the closing line (and keeps it for .ci/run), then exits. */
function finish(passed, failed, skipped = 0) {
  const summary = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
  writeFileSync(join(outDir, "summary.txt"), summary + "\n");
  console.log(`\n${summary}`);
  process.exit(failed === 0 ? 0 : 1);
}
