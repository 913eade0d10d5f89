/**
 * The edge as `wrangler deploy` would upload it, from the repository's own wrangler.toml:
 * it bundles for Workers with no Node built-in left to resolve, binds R2 and KV as the
 * README says, and stays small (a stray import of a Node-only library — the AWS SDK, the
 * builder — would show here first).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ROOT, WRANGLER } from "../support/workerd.ts";

describe("the Worker bundle (wrangler deploy --dry-run)", () => {
  it("bundles edge/worker/worker.ts with R2 and KV bound, no Node built-ins, under 1 MiB gzipped", () => {
    const dir = mkdtempSync(join(tmpdir(), "nixport-bundle-"));
    const out = join(dir, "out");
    const r = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG_PATH: join(dir, "logs"), XDG_CONFIG_HOME: join(dir, "config"), CI: "true" },
    });
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.status, output).toBe(0);
    expect(output).toMatch(/env\.BLOBS \(nixport\)\s+R2 Bucket/);
    expect(output).toMatch(/env\.TAGS \([0-9a-f]{32}\)\s+KV Namespace/);
    const bundle = readFileSync(join(out, "worker.js"), "utf8");
    expect(bundle).toContain("Docker-Distribution-API-Version");
    expect(bundle.match(/["']node:[a-z_/]+["']/g) ?? []).toEqual([]);
    expect(bundle).not.toContain("@aws-sdk");
    expect(gzipSync(bundle).length).toBeLessThan(1024 * 1024);
  });
});
