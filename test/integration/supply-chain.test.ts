import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ImageResult, ImageSpec } from "../../builder/service/types.ts";
import { NIX_EXPR_DIR } from "../../builder/nix/nix.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";
import { TESTPKGS } from "../support/nix.ts";

// The SBOM and provenance of a real build (real Nix, the filesystem store), checked against
// what Nix itself says of the image's outputs.
const started: TestBuilder[] = [];
afterAll(() => Promise.all(started.map((b) => b.stop())));

const spec: ImageSpec = { packages: ["git", "hello"], arch: "amd64", tag: "latest", formats: "both", compression: "gzip" };

async function build(): Promise<{ b: TestBuilder; result: ImageResult }> {
  const b = await startTestBuilder();
  started.push(b);
  return { b, result: await b.builder.backend.build(spec, () => {}, new AbortController().signal) };
}

const nix = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8" }).trim().split("\n");
const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8"));
const blob = (b: TestBuilder, digest: string) => readFileSync(join(b.dataDir, "blobs/sha256", digest.slice(7)));

describe("supply chain documents", () => {
  it("SBOM names every path of nix-store -qR of the image's outputs, with Nix's NAR hash and the package set's meta", async () => {
    const { result } = await build();
    const outputs = nix("nix-build", ["--no-out-link", "--argstr", "pkgsPath", TESTPKGS, "--argstr", "attrPathsJson", JSON.stringify([["git"], ["hello"]]), join(NIX_EXPR_DIR, "build.nix")]);
    const closure = nix("nix-store", ["-qR", ...outputs]).sort();
    const sbom = json(result.sbom!.content);
    expect(result.sbom!.mediaType).toBe("application/spdx+json");
    const byPath = new Map<string, { licenseDeclared: string; homepage?: string; checksums: { checksumValue: string }[]; SPDXID: string }>(
      sbom.packages.map((p: { packageFileName: string }) => [p.packageFileName, p]),
    );
    expect([...byPath.keys()].sort()).toEqual(closure);
    const hashes = nix("nix-store", ["-q", "--hash", ...closure]).map((h) => nix("nix-hash", ["--type", "sha256", "--to-base16", h.slice("sha256:".length)])[0]);
    closure.forEach((p, i) => expect(byPath.get(p)!.checksums[0]!.checksumValue).toBe(hashes[i]));
    const named = (n: string) => [...byPath.entries()].find(([p]) => p.endsWith(n))![1];
    expect(named("-hello-2.12.1")).toMatchObject({ licenseDeclared: "GPL-3.0-or-later", homepage: "https://www.gnu.org/software/hello/" });
    expect(named("-git-2.44.1").licenseDeclared).toBe("GPL-2.0-only AND LGPL-2.1-or-later");
    expect(named("-zlib-1.3.1").licenseDeclared).toBe("Zlib"); // a dependency, through propagatedBuildInputs
    // Every reference Nix knows is a DEPENDS_ON relation.
    const relations = new Set(sbom.relationships.map((r: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`));
    for (const p of closure) {
      for (const r of nix("nix-store", ["-q", "--references", p]).filter((r) => r && r !== p)) {
        expect(relations.has(`${byPath.get(p)!.SPDXID} DEPENDS_ON ${byPath.get(r)!.SPDXID}`)).toBe(true);
      }
    }
  });

  it("provenance names both manifests, the source and the derivations; artifacts and referrers records are stored; same bytes from a fresh store", async () => {
    const { b, result } = await build();
    const st = json(result.provenance!.content);
    expect(st.subject.map((s: { digest: { sha256: string } }) => `sha256:${s.digest.sha256}`).sort()).toEqual(result.manifests.map((m) => m.digest).sort());
    expect(st.predicate.buildDefinition.externalParameters).toMatchObject({ packages: ["git", "hello"], source: { description: "path testpkgs", revision: "latest" } });
    const derivers = nix("nix-store", ["-q", "--deriver", ...nix("nix-build", ["--no-out-link", TESTPKGS, "-A", "hello"])]);
    expect(st.predicate.buildDefinition.resolvedDependencies.map((d: { uri: string }) => d.uri)).toContain(`nix:${derivers[0]}`);
    for (const m of result.manifests) {
      const record = JSON.parse(readFileSync(join(b.dataDir, "referrers", `${m.digest.slice(7)}.json`), "utf8")) as { manifests: { digest: string; artifactType: string }[] };
      expect(record.manifests.map((d) => d.artifactType)).toEqual(["application/spdx+json", "application/vnd.in-toto+json"]);
      for (const d of record.manifests) {
        const artifact = JSON.parse(blob(b, d.digest).toString("utf8"));
        expect(artifact.subject).toEqual({ mediaType: m.mediaType, digest: m.digest, size: m.size });
        expect(blob(b, artifact.config.digest).toString()).toBe("{}");
        const doc = artifact.layers[0].digest;
        expect(doc).toBe(d.artifactType === "application/spdx+json" ? result.sbom!.digest : result.provenance!.digest);
        expect(blob(b, doc).equals(Buffer.from(d.artifactType === "application/spdx+json" ? result.sbom!.content : result.provenance!.content))).toBe(true);
      }
    }
    const again = await build();
    expect(again.result.sbom!.digest).toBe(result.sbom!.digest);
    expect(again.result.provenance!.digest).toBe(result.provenance!.digest);
  });

  it("an image served from the image cache (a commit) carries the same documents; provenance names the git commit", async () => {
    const repo = join(mkdtempSync(join(tmpdir(), "nixport-sbom-git-")), "pkgs");
    cpSync(TESTPKGS, repo, { recursive: true });
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" }).trim();
    git("init", "-q");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pkgs");
    const commit = git("rev-parse", "HEAD");
    const b = await startTestBuilder({ env: { NIXPORT_PKGS_PATH: "", NIXPORT_PKGS_REPO: `file://${repo}` } });
    started.push(b);
    const run = async () => {
      const phases: string[] = [];
      const r = await b.builder.backend.build({ ...spec, packages: ["hello"], tag: commit }, (e) => e.type === "phase" && phases.push(e.message), new AbortController().signal);
      return { r, phases };
    };
    const first = await run();
    const cached = await run();
    expect(cached.phases).toContain("served from the image cache");
    for (const doc of ["sbom", "provenance"] as const) {
      const [was, now] = [first.r[doc]!, cached.r[doc]!];
      expect({ digest: now.digest, mediaType: now.mediaType }).toEqual({ digest: was.digest, mediaType: was.mediaType });
      expect(Buffer.from(now.content).equals(Buffer.from(was.content))).toBe(true);
    }
    const st = json(first.r.provenance!.content);
    expect(st.predicate.buildDefinition.resolvedDependencies[0]).toEqual({ uri: "urn:nixport:source:git%20pkgs", digest: { gitCommit: commit } }); // a local repository is named by its folder alone
  });
});
