#!/usr/bin/env node
// Architecture lint (DESIGN.md "Where things live") plus buf lint of the proto contract.
// - edge/ and builder/ never import each other, with no exception: they meet in proto/ and
//   common/, and only the all-in-one composition root (server/) imports both;
// - common/ imports neither edge/ nor builder/ (nor server/);
// - edge/ never imports Node built-ins except in its Node adapter (edge/node/), and neither
//   does any common/ module the rest of edge/ reaches (the Worker bundles those);
// - no focused tests (.only) are committed.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const problems = [];

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mts|mjs|js)$/.test(name)) yield p;
  }
}

const importRe = /(?:^|\s)(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
function imports(file) {
  const src = readFileSync(file, "utf8");
  const out = [];
  for (const m of src.matchAll(importRe)) out.push(m[1] ?? m[2]);
  return out;
}
/** Does the relative import `spec` in `file` resolve into the top-level folder `top`? */
const under = (file, spec, top) => spec.startsWith(".") && relative(root, resolve(dirname(file), spec)).split("/")[0] === top;
const nodeBuiltin = (spec) => spec.startsWith("node:") || ["fs", "path", "os", "child_process", "crypto", "http", "http2", "net", "stream", "zlib", "url", "util", "events", "buffer", "worker_threads"].includes(spec.split("/")[0]);

/** The file a relative import names (imports here always spell the extension). */
const target = (file, spec) => resolve(dirname(file), spec);

for (const f of files(join(root, "edge"))) {
  const rel = relative(root, f);
  const adapter = rel.startsWith("edge/node/");
  for (const spec of imports(f)) {
    if (!adapter && nodeBuiltin(spec)) problems.push(`${rel}: edge code imports Node built-in '${spec}' (only edge/node/ may)`);
    if (under(f, spec, "builder")) problems.push(`${rel}: edge code imports builder code '${spec}' (they meet in proto/ or common/)`);
    if (!adapter && under(f, spec, "common")) checkWorkerSafe(target(f, spec), [rel]);
  }
}
for (const f of files(join(root, "builder"))) {
  const rel = relative(root, f);
  for (const spec of imports(f)) {
    if (under(f, spec, "edge")) problems.push(`${rel}: builder imports edge code '${spec}' (they meet in proto/ or common/)`);
    // builder/image/ builds configs, manifests and plans from values; files, processes and
    // streams are builder/image-io/'s (hashing bytes in memory is fine).
    const io = spec.startsWith("node:") && !["node:crypto"].includes(spec);
    if (rel.startsWith("builder/image/") && (io || resolve(dirname(f), spec).startsWith(join(root, "builder/image-io")))) {
      problems.push(`${rel}: builder/image/ is pure, but imports '${spec}' (I/O lives in builder/image-io/)`);
    }
  }
}
for (const f of files(join(root, "common"))) {
  const rel = relative(root, f);
  for (const spec of imports(f)) {
    for (const top of ["edge", "builder", "server"]) {
      if (under(f, spec, top)) problems.push(`${rel}: common code imports ${top} code '${spec}'`);
    }
  }
}

/** A common/ module the Worker bundles, and what it imports from common/, use no Node built-in. */
function checkWorkerSafe(file, chain, seen = new Set()) {
  if (seen.has(file) || !existsSync(file)) return;
  seen.add(file);
  for (const spec of imports(file)) {
    if (nodeBuiltin(spec)) problems.push(`${relative(root, file)}: imports Node built-in '${spec}', but the Worker imports it (${chain.join(" → ")})`);
    if (under(file, spec, "common")) checkWorkerSafe(target(file, spec), [...chain, relative(root, file)], seen);
  }
}
for (const f of files(join(root, "test"))) {
  const src = readFileSync(f, "utf8");
  if (/\b(it|test|describe)\.only\(/.test(src)) problems.push(`${relative(root, f)}: focused test (.only)`);
}

if (existsSync(join(root, "proto", "buf.yaml"))) {
  const r = spawnSync("npx", ["buf", "lint"], { cwd: join(root, "proto"), encoding: "utf8" });
  if (r.status !== 0) problems.push(`buf lint:\n${r.stdout}${r.stderr}`);
}

for (const p of problems) console.log(p);
console.log(problems.length ? `lint: ${problems.length} problem(s)` : "lint: clean");
process.exit(problems.length ? 1 : 0);
