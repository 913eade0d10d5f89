/**
 * A package set written by a stranger, served from git: it tries to read the builder's
 * secrets from the environment and files of the host, at evaluation and at build time. A
 * canary in the builder's environment and one in a host file must appear in no answer and in
 * no stored blob (real Nix, real git, the builder as `npm run builder` assembles it).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuilder, type Builder } from "../../builder/builder.ts";
import { builderConfigFromEnv } from "../../builder/config.ts";
import { copyTestpkgs } from "../support/nix.ts";

const ENV_CANARY = `envcanary${randomBytes(8).toString("hex")}`;
const FILE_CANARY = `filecanary${randomBytes(8).toString("hex")}`;

let dataDir: string;
let repoDir: string;
let pullCommit: string;
let builder: Builder;
const answers: string[] = [];

/** Every file under `dir`, gzip members decompressed (layers are gzip tars). */
function contents(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...contents(path));
    else {
      const bytes = readFileSync(path);
      out.push(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
    }
  }
  return out;
}

beforeAll(async () => {
  const work = mkdtempSync(join(tmpdir(), "nixport-canary-"));
  dataDir = join(work, "data");
  mkdirSync(dataDir);
  const hostFile = join(work, "host-secret");
  writeFileSync(hostFile, `${FILE_CANARY}\n`);
  // A checkout lies four folders below the data folder: sources/checkouts/<id>/<commit>.
  const upToHost = `../../../../${relative(dataDir, hostFile)}`;
  const repo = join(work, "evil");
  mkdirSync(repo);
  copyTestpkgs(repo);
  writeFileSync(
    join(repo, "default.nix"),
    `{ system ? builtins.currentSystem }:
let
  t = import ./testpkgs { inherit system; };
  leak = pname: text: t.lib.mkPkg { inherit pname; version = "1"; description = "leaks"; script = "mkdir -p $out/share; echo '\${text}' > $out/share/leak"; };
in t // {
  envleak = leak "envleak" (builtins.getEnv "AWS_SECRET_ACCESS_KEY" + builtins.getEnv "NIXPORT_BUILDER_TOKEN" + builtins.getEnv "CANARY_PLAIN");
  hostfile = leak "hostfile" (builtins.readFile ${hostFile});
  hostname = leak "hostname" (builtins.readFile /etc/hostname);
  relative = leak "relative" (builtins.readFile ./${upToHost});
  buildtime = t.lib.mkPkg { pname = "buildtime"; version = "1"; description = "reads the host when built";
    script = "mkdir -p $out/share; cat ${hostFile} > $out/share/file 2>&1 || true; env > $out/share/env"; };
}
`,
  );
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
  git("init", "-q", "-b", "main");
  git("config", "uploadpack.allowAnySHA1InWant", "true");
  git("add", ".");
  git("commit", "-qm", "a package set a stranger wrote");
  // A pull request's commit: the remote serves it, no branch or tag reaches it.
  writeFileSync(join(repo, "pr"), "from a pull request\n");
  git("add", ".");
  git("commit", "-qm", "a pull request");
  pullCommit = git("rev-parse", "HEAD").toString().trim();
  git("update-ref", "refs/pull/1/head", "HEAD");
  git("reset", "-q", "--hard", "HEAD~1");
  repoDir = repo;
  const env = {
    ...process.env,
    NIXPORT_PKGS_REPO: `file://${repo}`,
    NIXPORT_DATA: dataDir,
    AWS_SECRET_ACCESS_KEY: ENV_CANARY,
    NIXPORT_BUILDER_TOKEN: ENV_CANARY,
    CANARY_PLAIN: ENV_CANARY,
  };
  builder = await createBuilder(builderConfigFromEnv(env), env);
}, 60_000);
afterAll(() => builder?.close(1000));

async function build(pkg: string, tag = "latest"): Promise<{ ok: boolean; error?: { kind: string; message: string } }> {
  const spec = { packages: [pkg], arch: "amd64" as const, tag, formats: "oci" as const, compression: "gzip" as const };
  try {
    const r = await builder.backend.build(spec, (e) => answers.push(JSON.stringify(e)), new AbortController().signal);
    answers.push(JSON.stringify(r));
    return { ok: true };
  } catch (e) {
    const err = e as { kind: string; message: string; details?: unknown };
    answers.push(JSON.stringify({ kind: err.kind, message: err.message, details: err.details }));
    return { ok: false, error: { kind: err.kind, message: err.message } };
  }
}

describe("a hostile package set in git", () => {
  it("reads an empty environment when it asks for the builder's secrets", async () => {
    expect(await build("envleak")).toEqual({ ok: true });
  }, 120_000);

  it("cannot read a host file, by absolute or relative path, nor /etc/hostname: a clear build error", async () => {
    for (const pkg of ["hostfile", "relative", "hostname"]) {
      const r = await build(pkg);
      expect(r.ok).toBe(false);
      expect(r.error).toMatchObject({ kind: "build_failed", message: expect.stringMatching(/forbidden in restricted mode/) });
    }
  }, 120_000);

  it("builds in the sandbox: the host file is not there, the environment holds no secret", async () => {
    expect(await build("buildtime")).toEqual({ ok: true });
  }, 120_000);

  it("no answer and no stored blob holds either canary, nor the data folder's path", () => {
    const said = answers.join("\n");
    expect(said.length).toBeGreaterThan(0);
    for (const canary of [ENV_CANARY, FILE_CANARY]) expect(said).not.toContain(canary);
    expect(said).not.toContain(dataDir);
    const stored = join(dataDir, "blobs");
    const blobs = contents(stored);
    expect(blobs.length).toBeGreaterThan(3);
    for (const blob of blobs) {
      for (const canary of [ENV_CANARY, FILE_CANARY]) expect(blob.includes(canary)).toBe(false);
    }
  });

  it("a pull request's commit is not found, nothing of it evaluated; the answer is remembered", async () => {
    const nixCalls = builder.nix.invocations.count;
    const first = await build("envleak", pullCommit);
    expect(first.error).toMatchObject({ kind: "not_found", message: expect.stringContaining(pullCommit) });
    expect(builder.nix.invocations.count).toBe(nixCalls);
    // Asked again with the repository gone: the same answer, so git was not asked again.
    renameSync(repoDir, `${repoDir}-gone`);
    try {
      expect(await build("envleak", pullCommit)).toEqual(first);
    } finally {
      renameSync(`${repoDir}-gone`, repoDir);
    }
  });
});
