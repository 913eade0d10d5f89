/**
 * An in-memory builder for tests: knows a fixed set of package names, "builds" an image of
 * one small layer per package, writes layers, config and both manifest formats to a
 * MemoryBlobStore as the real builder writes to object storage, and can be told to fail,
 * to be down, or to be slow. Deterministic: same request, same revision → same digests.
 */
import { MemoryBlobStore } from "./memory-blobs.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import { BuildError } from "../../common/build-error.ts";
import type { BuilderClient, BuildResult, BuiltManifest } from "../../edge/builder/client.ts";

const COMMIT_RE = /^[0-9a-f]{40}$/;

export interface MemoryBuilderOptions {
  /** Package names the source knows (lowercase, as the edge passes them). */
  packages: Iterable<string>;
  store?: MemoryBlobStore;
  /** Packages whose build fails. */
  failing?: Record<string, { derivation: string; logTail: string }>;
  /** TTL for moving sources (tags that are not commits); default 300 s. */
  ttlSeconds?: number;
  /** Milliseconds each build takes (abortable). */
  delayMs?: number;
}

export async function sha256Digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const encoder = new TextEncoder();

export class MemoryBuilder implements BuilderClient {
  readonly store: MemoryBlobStore;
  /** Every request received, in order. */
  readonly calls: ImageRequest[] = [];
  /** While set, every build fails as this kind (e.g. "unavailable"). */
  down: "unavailable" | "timeout" | "unauthenticated" | "internal" | null = null;
  /** Bumped to make moving sources resolve to a new revision. */
  generation = 1;
  private readonly known: Set<string>;

  constructor(private readonly o: MemoryBuilderOptions) {
    this.known = new Set(o.packages);
    this.store = o.store ?? new MemoryBlobStore();
  }

  async build(req: ImageRequest, opts?: { signal?: AbortSignal }): Promise<BuildResult> {
    this.calls.push(structuredClone(req));
    // As a real client: a call whose signal has already fired never starts.
    if (opts?.signal?.aborted) throw new BuildError("timeout", "build call aborted");
    if (this.o.delayMs) await sleep(this.o.delayMs, opts?.signal);
    if (this.down) throw new BuildError(this.down, `builder is ${this.down}`, { retryAfterSeconds: 7 });
    const unknown = req.packages.filter((p) => !this.known.has(p));
    if (unknown.length) throw new BuildError("not_found", `unknown packages: ${unknown.join(", ")}`, { unknownPackages: unknown });
    const broken = req.packages.find((p) => this.o.failing?.[p]);
    if (broken) {
      const f = this.o.failing![broken]!;
      throw new BuildError("build_failed", `build of ${broken} failed`, { derivation: f.derivation, logTail: f.logTail });
    }
    const immutable = COMMIT_RE.test(req.tag);
    const revision = immutable ? req.tag : `${req.tag}-r${this.generation}`;
    return {
      manifests: await this.writeImage(req, revision),
      ttlSeconds: immutable ? null : (this.o.ttlSeconds ?? 300),
      revision,
    };
  }

  async checkPackages(packages: string[]): Promise<{ unknown: string[] }> {
    if (this.down) throw new BuildError(this.down, `builder is ${this.down}`, { retryAfterSeconds: 7 });
    return { unknown: packages.filter((p) => !this.known.has(p)) };
  }

  private async putBlob(bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = await sha256Digest(bytes);
    this.store.put(digest, bytes);
    return { digest, size: bytes.byteLength };
  }

  private async writeImage(req: ImageRequest, revision: string): Promise<BuiltManifest[]> {
    const layers = [];
    for (const p of req.packages) layers.push(await this.putBlob(encoder.encode(`layer ${req.arch} ${p} ${revision}`)));
    const config = await this.putBlob(
      encoder.encode(JSON.stringify({ architecture: req.arch, os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } })),
    );
    const formats = [
      { mediaType: "application/vnd.docker.distribution.manifest.v2+json", config: "application/vnd.docker.container.image.v1+json", layer: "application/vnd.docker.image.rootfs.diff.tar.gzip" },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", config: "application/vnd.oci.image.config.v1+json", layer: "application/vnd.oci.image.layer.v1.tar+gzip" },
    ];
    const out: BuiltManifest[] = [];
    for (const f of formats) {
      const bytes = encoder.encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: f.mediaType,
          config: { mediaType: f.config, ...config },
          layers: layers.map((l) => ({ mediaType: f.layer, ...l })),
        }),
      );
      const { digest, size } = await this.putBlob(bytes);
      out.push({ digest, mediaType: f.mediaType, size, bytes });
    }
    return out;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(new BuildError("timeout", "build call aborted"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}
