/**
 * The seam between the edge and a builder. The Connect/gRPC-web client (Workers and Node) and
 * the in-memory builder used by tests both implement BuilderClient; the edge knows nothing else.
 */
import type { ImageRequest } from "../../common/image-request.ts";

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

export type BuildErrorKind =
  | "invalid"
  | "not_found"
  | "failed"
  | "denied"
  | "timeout"
  | "unavailable"
  | "unauthenticated"
  | "internal";

export interface BuildErrorDetails {
  /** not_found: every package name the source does not know. */
  unknownPackages?: string[];
  /** failed: the derivation whose build failed, and the end of its log. */
  derivation?: string;
  logTail?: string;
  /** unavailable / timeout: when the builder suggests trying again. */
  retryAfterSeconds?: number;
}

export class BuildError extends Error {
  readonly kind: BuildErrorKind;
  unknownPackages?: string[];
  derivation?: string;
  logTail?: string;
  retryAfterSeconds?: number;

  constructor(kind: BuildErrorKind, message: string, details: BuildErrorDetails = {}) {
    super(message);
    this.name = "BuildError";
    this.kind = kind;
    if (details.unknownPackages) this.unknownPackages = details.unknownPackages;
    if (details.derivation !== undefined) this.derivation = details.derivation;
    if (details.logTail !== undefined) this.logTail = details.logTail;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

export interface BuilderClient {
  build(req: ImageRequest, opts?: { signal?: AbortSignal }): Promise<BuildResult>;
}

/** Makes the client for one builder URL; the Worker entry receives one of these. */
export type BuilderFactory = (url: string, token: string | undefined) => BuilderClient;

/** The builder used when none is configured: every build is "unavailable", cached images still serve. */
export const noBuilder: BuilderClient = {
  build() {
    return Promise.reject(new BuildError("unavailable", "no builder is configured", { retryAfterSeconds: 60 }));
  },
};
