import { spawn, execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TESTPKGS } from "../support/nix.ts";
import { freePort } from "../support/registry.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** `npm run builder`'s entry as a child process; resolves once it logs that it listens. */
async function startBuilderProcess(env: NodeJS.ProcessEnv) {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "builder/main.ts")], {
    cwd: ROOT,
    env: { ...process.env, NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: mkdtempSync(join(tmpdir(), "nixport-bmain-")), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (b) => (out += b));
  child.stderr.on("data", (b) => (out += b));
  const deadline = Date.now() + 30_000;
  while (!out.includes('"builder listening"')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`builder did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, logs: () => out, exited };
}

const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [join(ROOT, "builder/cli/bin.mjs"), ...args], (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
  );

describe("npm run builder", () => {
  it("serves builds to the CLI with its token and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const b = await startBuilderProcess({ NIXPORT_GRPC_PORT: String(port), NIXPORT_BUILDER_TOKEN: "t0ken", NIXPORT_GRPC_HOST: "127.0.0.1" });
    const ok = await cli(["--builder", `127.0.0.1:${port}`, "--token", "t0ken", "hello"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    const refused = await cli(["--builder", `127.0.0.1:${port}`, "hello"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/missing bearer token/);
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(b.logs()).toContain("shutting down");
  });

  it("without a token, listens on loopback only and says so", async () => {
    const port = await freePort();
    const b = await startBuilderProcess({ NIXPORT_GRPC_PORT: String(port), NIXPORT_BUILDER_TOKEN: "" });
    expect(b.logs()).toMatch(/without a token, on loopback only/);
    expect(b.logs()).toContain('"host":"127.0.0.1"');
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
  });

  it("without a token, refuses to start on a non-loopback address, saying what to set", async () => {
    const port = await freePort();
    await expect(startBuilderProcess({ NIXPORT_GRPC_PORT: String(port), NIXPORT_BUILDER_TOKEN: "", NIXPORT_GRPC_HOST: "0.0.0.0" })).rejects.toThrow(
      /refusing to serve builds on 0\.0\.0\.0 without a token: set NIXPORT_BUILDER_TOKEN/,
    );
    await expect(startBuilderProcess({ NIXPORT_GRPC_PORT: String(port), NIXPORT_GRPC_TLS_CERT: "/x/cert.pem" })).rejects.toThrow(/NIXPORT_GRPC_TLS_CERT and NIXPORT_GRPC_TLS_KEY go together/);
  });

  it("refuses to start with a clear message when the package source is unusable", async () => {
    const port = await freePort();
    await expect(startBuilderProcess({ NIXPORT_GRPC_PORT: String(port), NIXPORT_PKGS_PATH: "/nonexistent/pkgs" })).rejects.toThrow(/no default.nix in \/nonexistent\/pkgs/);
  });
});
