/**
 * The contract every BuilderClient passes (the in-memory builder the edge tests use, and the
 * Connect client in front of a real builder): what the edge may rely on from `build`.
 */
import { describe, expect, it } from "vitest";
import { BuildError } from "../../common/build-error.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import type { BuilderClient, BuildResult } from "../../edge/builder/client.ts";

export interface BuilderClientSubject {
  client: BuilderClient;
  /** A package the builder knows and builds. */
  known: string;
  /** A package whose build fails. */
  failing: string;
  /** A client of the same kind whose builder cannot be reached. */
  unreachable(): BuilderClient | Promise<BuilderClient>;
}

const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";
const OCI = "application/vnd.oci.image.manifest.v1+json";

async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function failure(p: Promise<BuildResult>): Promise<BuildError> {
  const e = await p.then(() => new Error("the build succeeded"), (err: unknown) => err);
  expect(e).toBeInstanceOf(BuildError);
  return e as BuildError;
}

export function builderClientContract(name: string, setup: () => Promise<BuilderClientSubject>): void {
  describe(`BuilderClient contract: ${name}`, () => {
    const request = (s: BuilderClientSubject, packages = [s.known]): ImageRequest => ({ arch: "amd64", packages, tag: "latest" });

    it("builds a known package: Docker schema 2 first, then OCI, each digest the sha256 of its bytes", async () => {
      const s = await setup();
      const r = await s.client.build(request(s));
      expect(r.manifests.map((m) => m.mediaType)).toEqual([DOCKER, OCI]);
      for (const m of r.manifests) {
        expect(m.digest).toBe(await sha256(m.bytes));
        expect(m.size).toBe(m.bytes.byteLength);
      }
    });

    it("is deterministic: the same request again gives the same digests", async () => {
      const s = await setup();
      const [a, b] = [await s.client.build(request(s)), await s.client.build(request(s))];
      expect(b.manifests.map((m) => m.digest)).toEqual(a.manifests.map((m) => m.digest));
    });

    it("gives a moving tag a positive TTL and names the revision built", async () => {
      const s = await setup();
      const r = await s.client.build(request(s));
      expect(r.ttlSeconds).toBeGreaterThan(0);
      expect(r.revision).toBeTruthy();
    });

    it("refuses unknown packages as not_found, naming every one", async () => {
      const s = await setup();
      const e = await failure(s.client.build(request(s, [s.known, "nosuch-a", "nosuch-b"])));
      expect(e.kind).toBe("not_found");
      expect([...(e.details.unknownPackages ?? [])].sort()).toEqual(["nosuch-a", "nosuch-b"]);
    });

    it("reports a failing build as build_failed with its derivation and log tail", async () => {
      const s = await setup();
      const e = await failure(s.client.build(request(s, [s.failing])));
      expect(e.kind).toBe("build_failed");
      expect(e.details.derivation).toMatch(/\.drv$/);
      expect(e.details.logTail).toBeTruthy();
    });

    it("answers a call whose signal has fired as timeout: the edge's own deadline passed", async () => {
      const s = await setup();
      const ac = new AbortController();
      ac.abort();
      expect((await failure(s.client.build(request(s), { signal: ac.signal }))).kind).toBe("timeout");
    });

    it("answers an unreachable builder as unavailable, with a retry hint", async () => {
      const s = await setup();
      const e = await failure((await s.unreachable()).build(request(s)));
      expect(e.kind).toBe("unavailable");
      expect(e.details.retryAfterSeconds).toBeGreaterThan(0);
    });
  });
}
