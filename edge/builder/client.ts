/**
 * The seam between the edge and a builder. The Connect/gRPC-web client (Workers and Node) and
 * the in-memory builder used by tests both implement BuilderClient; the edge knows nothing else.
 */
import { BuildError } from "../../common/build-error.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import type { IndexEntry, IndexType } from "../../common/image-index.ts";

export interface BuiltManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Uint8Array;
}

export interface BuildResult {
  /** Manifests of the image, one per format written (Docker schema 2 and OCI image manifest). */
  manifests: BuiltManifest[];
  /** Seconds the tag→digest answer may be cached; null = forever (immutable source, e.g. a commit). */
  ttlSeconds: number | null;
  /** Source revision the image was built from. */
  revision?: string;
}

export interface BuilderClient {
  build(req: ImageRequest, opts?: { signal?: AbortSignal }): Promise<BuildResult>;
  /** The Nix systems the builder can build (aarch64-linux for arm64); absent: not known. */
  systems?(): Promise<string[]>;
  /** Stores an image index over stored manifests, so every edge serves it by digest. */
  writeIndex?(type: IndexType, entries: IndexEntry[]): Promise<{ digest: string; size: number }>;
  /** The names of `packages` the package source at `tag` does not have (nothing is built). */
  checkPackages?(packages: string[], tag: string, opts?: { signal?: AbortSignal }): Promise<{ unknown: string[] }>;
}

/** Makes the client for one builder URL; the Worker entry receives one of these. */
export type BuilderFactory = (url: string, token: string | undefined) => BuilderClient;

/** The builder used when none is configured: every build is "unavailable", cached images still serve. */
export const noBuilder: BuilderClient = {
  build() {
    return Promise.reject(new BuildError("unavailable", "no builder is configured", { retryAfterSeconds: 60 }));
  },
};
