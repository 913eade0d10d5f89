/**
 * The benchmarks' scratch folders. Each suite gets `<root>/<name>`, created on first use
 * (with every parent), so a suite runs from a fresh clone: no other command has to have made
 * `.tmp/` first. The root is `.tmp/bench` in the repository, or NIXPORT_BENCH_DIR.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export function benchRoot(): string {
  return process.env.NIXPORT_BENCH_DIR ?? join(REPO, ".tmp", "bench");
}

/** `<root>/<name>`, created if missing. */
export function benchDir(name: string): string {
  const dir = join(benchRoot(), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
