/**
 * The edge's builder client over gRPC-web (HTTP/1.1 and fetch, so it runs inside workerd,
 * whose fetch has no HTTP/2 trailers). Turns the builder's errors back into BuildErrors: the
 * kind its ErrorDetail names, or for a status without one (a proxy, the auth interceptor, a
 * connection that failed) the kind its status code means.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Architecture, BuilderService, ErrorDetailSchema, ManifestFormat } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import { BuildError, errorKindFromProto, type BuildErrorKind } from "../../common/build-error.ts";
import type { BuilderClient, BuildResult } from "./client.ts";

export interface ConnectBuilderOptions {
  /** e.g. http://builder.internal:50051 */
  baseUrl: string;
  token?: string;
  /** How long a tag → digest answer from a moving source may be cached (default 300 s). */
  movingTtlSeconds?: number;
  /** Deadline for one build call (default 30 minutes). */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

const KIND_OF: Partial<Record<Code, BuildErrorKind>> = {
  [Code.InvalidArgument]: "invalid_argument",
  [Code.NotFound]: "not_found",
  [Code.FailedPrecondition]: "build_failed",
  [Code.DeadlineExceeded]: "timeout",
  // The edge cancels a call only when its pull wait ends (pullWaitSeconds): the builder is
  // slow, not down, and keeps building, so the answer is "still running".
  [Code.Canceled]: "timeout",
  [Code.Unavailable]: "unavailable",
  [Code.ResourceExhausted]: "unavailable",
  [Code.Unauthenticated]: "unauthenticated",
  // The builder's policy (closure size, package lists, substitute-only); its token errors are Unauthenticated.
  [Code.PermissionDenied]: "denied",
};

export function connectBuilder(opts: ConnectBuilderOptions): BuilderClient {
  const baseFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const transport = createGrpcWebTransport({
    baseUrl: opts.baseUrl,
    // connect-web asks for redirect: "error", which workerd refuses; a builder never redirects.
    fetch: (input, init) => baseFetch(input, { ...init, redirect: "manual" }),
  });
  const client = createClient(BuilderService, transport);
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};

  return {
    async build(req: ImageRequest, callOpts?: { signal?: AbortSignal }): Promise<BuildResult> {
      try {
        const stream = client.build(
          {
            packages: req.packages,
            tag: req.tag,
            architecture: req.arch === "arm64" ? Architecture.ARM64 : Architecture.AMD64,
            manifestFormat: ManifestFormat.UNSPECIFIED,
            nonroot: req.user === "nonroot",
          },
          { headers, signal: callOpts?.signal, timeoutMs: opts.timeoutMs ?? 30 * 60_000 },
        );
        // Read the stream to its end, not only to the done event: leaving it early keeps
        // Connect's deadline timer (timeoutMs) alive, one per build call, for its whole length.
        let result: BuildResult | undefined;
        for await (const ev of stream) {
          if (ev.event.case !== "done") continue;
          const done = ev.event.value;
          result = {
            manifests: done.manifests.map((m) => ({ digest: m.digest, mediaType: m.mediaType, size: Number(m.size), bytes: m.content })),
            ttlSeconds: done.immutable ? null : (opts.movingTtlSeconds ?? 300),
            revision: done.revision,
          };
        }
        if (!result) throw new BuildError("internal", "the builder ended the build stream without an image");
        return result;
      } catch (e) {
        throw toBuildError(e);
      }
    },
    async writeIndex(type, entries) {
      try {
        const wire = entries.map((e) => ({ architecture: e.arch === "arm64" ? Architecture.ARM64 : Architecture.AMD64, mediaType: e.mediaType, digest: e.digest, size: BigInt(e.size) }));
        const r = await client.writeIndex({ mediaType: type, entries: wire }, { headers, timeoutMs: 60_000 });
        return { digest: r.digest, size: Number(r.size) };
      } catch (e) {
        throw toBuildError(e);
      }
    },
    async systems() {
      try {
        return (await client.getSystems({}, { headers, timeoutMs: 30_000 })).systems;
      } catch (e) {
        throw toBuildError(e);
      }
    },
    async checkPackages(packages: string[], tag: string, callOpts?: { signal?: AbortSignal }) {
      try {
        const r = await client.checkPackages({ packages, tag }, { headers, signal: callOpts?.signal, timeoutMs: 60_000 });
        return { unknown: r.unknown };
      } catch (e) {
        throw toBuildError(e);
      }
    },
  };
}

export function toBuildError(e: unknown): BuildError {
  if (e instanceof BuildError) return e;
  const err = ConnectError.from(e);
  const detail = err.findDetails(ErrorDetailSchema)[0];
  const kind = (detail && errorKindFromProto(detail.kind)) ?? kindOfStatus(err);
  const retry = detail?.retryAfterSeconds || (kind === "unavailable" ? 30 : undefined);
  return new BuildError(kind, detail?.message || err.rawMessage, {
    ...(detail?.unknownPackages.length ? { unknownPackages: detail.unknownPackages } : {}),
    ...(detail?.derivation ? { derivation: detail.derivation } : {}),
    ...(detail?.logTail ? { logTail: detail.logTail } : {}),
    ...(retry ? { retryAfterSeconds: retry } : {}),
  });
}

function kindOfStatus(err: ConnectError): BuildErrorKind {
  return KIND_OF[err.code] ?? (unreachable(err) ? "unavailable" : err.code === Code.Unknown || err.code === Code.Internal ? "internal" : "unavailable");
}

/**
 * A request that never got an answer (connection refused or reset, no route, DNS): fetch
 * rejects with a TypeError, which Connect wraps as code Unknown. The builder is unreachable,
 * which is retryable, not an internal error.
 */
function unreachable(err: ConnectError): boolean {
  return err.code === Code.Unknown && err.cause instanceof TypeError;
}
