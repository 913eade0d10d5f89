#!/usr/bin/env node
// `npm start` (and `npm run builder`): set the host up (npm dependencies, Nix), then run the
// TypeScript entry point given as the argument in this process, through tsx — which the
// set-up may just have installed, hence plain Node here. For the registry, once it listens
// and answers, print its address and a pull command to paste.
//   NIXPORT_SETUP_ONLY=1   stop after the set-up step
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { ensureNixUsable, ensureNodeModules, ROOT, SetupError } from "./host.mjs";

const say = (line) => console.log(`nixport: ${line}`);
const [entry, mode] = process.argv.slice(2);

try {
  ensureNodeModules(say);
  ensureNixUsable(say);
} catch (e) {
  if (!(e instanceof SetupError)) throw e;
  console.error(`nixport: ${e.message}`);
  process.exit(1);
}
if (process.env.NIXPORT_SETUP_ONLY) process.exit(0);

const { register } = await import("tsx/esm/api");
register();
// The entry's top level ends once it listens (or exits the process when it cannot start), so
// the answer below is ours, not another server's on a port we failed to take.
await import(pathToFileURL(join(ROOT, entry)).href);
if (mode === "--registry") await announce();

/** Waits until the registry answers /v2/, then prints where it is and what to pull. */
async function announce() {
  // The entry point's own defaults for PORT and HOST (README, configuration table).
  const port = process.env.PORT || "8080";
  const host = ["", "0.0.0.0", "::"].includes(process.env.HOST ?? "") ? "127.0.0.1" : process.env.HOST;
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  for (;;) {
    // 401: up, with pull authentication on.
    const up = await fetch(`http://${address}/v2/`).then((r) => r.ok || r.status === 401, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`\nnixport: the registry is serving on http://${address}\n` + `  pull:  podman run --rm --tls-verify=false ${address}/hello hello\n` + `         docker run --rm ${address}/hello hello\n`);
}
