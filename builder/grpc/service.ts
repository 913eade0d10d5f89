import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  Architecture,
  BuilderService,
  BuildEventSchema,
  Compression,
  ManifestFormat,
  Phase,
  type BuildEvent as PbBuildEvent,
  type BuildRequest,
} from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import { Health, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../../proto/gen/grpc/health/v1/health_pb.ts";
import { BuildError } from "../errors.ts";
import { checkSettings } from "../image/settings.ts";
import type { BuilderBackend, BuildEvent, BuildPhase, ImageResult, ImageSpec } from "../service/types.ts";
import { toConnectError } from "./errors.ts";

const PHASES: Record<BuildPhase, Phase> = {
  queued: Phase.QUEUED,
  resolving_source: Phase.RESOLVING_SOURCE,
  checking_names: Phase.CHECKING_NAMES,
  realising: Phase.REALISING,
  planning: Phase.PLANNING,
  writing_layers: Phase.WRITING_LAYERS,
  writing_manifest: Phase.WRITING_MANIFEST,
  done: Phase.DONE,
};

export function specFromRequest(req: BuildRequest): ImageSpec {
  if (req.architecture !== Architecture.UNSPECIFIED && req.architecture !== Architecture.AMD64 && req.architecture !== Architecture.ARM64) {
    throw new BuildError("invalid_argument", "unknown architecture");
  }
  const formats = req.manifestFormat === ManifestFormat.DOCKER ? "docker" : req.manifestFormat === ManifestFormat.OCI ? "oci" : "both";
  const compression = req.compression === Compression.ZSTD ? "zstd" : "gzip";
  if (compression === "zstd" && formats !== "oci") {
    throw new BuildError("invalid_argument", "zstd layers need the OCI manifest format (Docker schema 2 has no zstd)");
  }
  return {
    packages: [...req.packages],
    arch: req.architecture === Architecture.ARM64 ? "arm64" : "amd64",
    tag: req.tag || "latest",
    formats,
    compression,
    settings: checkSettings(req.settings),
    ...(req.nonroot ? { user: "nonroot" as const } : {}),
  };
}

export function eventToProto(e: BuildEvent): PbBuildEvent {
  switch (e.type) {
    case "phase":
      return create(BuildEventSchema, { event: { case: "phase", value: { phase: PHASES[e.phase], message: e.message, queuePosition: e.queuePosition ?? 0 } } });
    case "log":
      return create(BuildEventSchema, { event: { case: "log", value: { line: e.line } } });
    case "layer":
      return create(BuildEventSchema, {
        event: { case: "layer", value: { index: e.index, count: e.count, digest: e.digest, size: BigInt(e.size), reused: e.reused, storePaths: e.storePaths } },
      });
  }
}

export function doneToProto(r: ImageResult): PbBuildEvent {
  return create(BuildEventSchema, {
    event: {
      case: "done",
      value: {
        manifests: r.manifests.map((m) => ({ content: m.content, digest: m.digest, mediaType: m.mediaType, size: BigInt(m.size) })),
        revision: r.revision,
        immutable: r.immutable,
        packages: r.packages,
      },
    },
  });
}

/**
 * Bridges the callback-shaped build into a server stream: events queue up while the
 * client reads; the stream ends with the ImageDone event or the build's error.
 */
async function* buildStream(backend: BuilderBackend, req: BuildRequest, ctx: HandlerContext): AsyncGenerator<PbBuildEvent> {
  let spec: ImageSpec;
  try {
    spec = specFromRequest(req);
  } catch (e) {
    throw toConnectError(e);
  }
  const pending: PbBuildEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const push = (ev: PbBuildEvent) => {
    pending.push(ev);
    wake?.();
  };
  backend
    .build(spec, (e) => push(eventToProto(e)), ctx.signal, { cancelIfAbandoned: req.cancelIfAbandoned })
    .then((r) => push(doneToProto(r)), (e) => (failure = e))
    .finally(() => {
      finished = true;
      wake?.();
    });
  for (;;) {
    while (pending.length) yield pending.shift()!;
    if (finished) break;
    await new Promise<void>((r) => (wake = r));
    wake = undefined;
  }
  while (pending.length) yield pending.shift()!;
  if (failure !== undefined) throw toConnectError(failure);
}

export function builderRoutes(backend: BuilderBackend) {
  return (router: ConnectRouter) => {
    router.service(BuilderService, {
      build: (req, ctx) => buildStream(backend, req, ctx),
      async checkPackages(req, ctx) {
        try {
          return await backend.checkPackages([...req.packages], req.tag || "latest", ctx.signal);
        } catch (e) {
          throw toConnectError(e);
        }
      },
    });
    router.service(Health, {
      async check() {
        const status = backend.serving() ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
        return create(HealthCheckResponseSchema, { status });
      },
      async *watch(_req, ctx) {
        let last: boolean | undefined;
        while (!ctx.signal.aborted) {
          const now = backend.serving();
          if (now !== last) {
            last = now;
            yield create(HealthCheckResponseSchema, {
              status: now ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING,
            });
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      },
    });
  };
}
