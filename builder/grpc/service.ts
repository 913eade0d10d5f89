import { create } from "@bufbuild/protobuf";
import { platformName } from "../../common/platforms.ts";
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
import { BuildError } from "../../common/build-error.ts";
import type { Arch } from "../../common/image-request.ts";
import type { Log } from "../../common/log.ts";
import { imageName, parseName, type ImageName } from "../../common/names.ts";
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

const ARCH_OF: Partial<Record<Architecture, Arch>> = { [Architecture.AMD64]: "amd64", [Architecture.ARM64]: "arm64" };

export function specFromRequest(req: BuildRequest): ImageSpec {
  if (req.architecture !== Architecture.UNSPECIFIED && !ARCH_OF[req.architecture]) {
    throw new BuildError("invalid_argument", "unknown architecture");
  }
  const named: ImageName = req.image ? imageOfName(req) : { arch: ARCH_OF[req.architecture] ?? "amd64", packages: [...req.packages] };
  const user = named.user ?? (req.nonroot ? "nonroot" : undefined);
  const formats = req.manifestFormat === ManifestFormat.DOCKER ? "docker" : req.manifestFormat === ManifestFormat.OCI ? "oci" : "both";
  const compression = req.compression === Compression.ZSTD ? "zstd" : "gzip";
  if (compression === "zstd" && formats !== "oci") {
    throw new BuildError("invalid_argument", "zstd layers need the OCI manifest format (Docker schema 2 has no zstd)");
  }
  return {
    packages: named.packages,
    arch: named.arch,
    tag: req.tag || "latest",
    formats,
    compression,
    settings: checkSettings(req.settings),
    ...(user ? { user } : {}),
  };
}

/** The image a BuildRequest names the way a pull does, read with the registry's own grammar. */
function imageOfName(req: BuildRequest): ImageName {
  if (req.packages.length) throw new BuildError("invalid_argument", "give either packages or an image name, not both");
  const parsed = parseName(req.image);
  if (!parsed.ok) throw new BuildError("invalid_argument", `invalid image name: ${parsed.reason}`);
  const asked = ARCH_OF[req.architecture];
  if (asked && asked !== parsed.value.arch) {
    throw new BuildError("invalid_argument", `architecture ${asked} conflicts with the image name, which means ${parsed.value.arch}`);
  }
  return parsed.value;
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

export function doneToProto(r: ImageResult, spec: ImageSpec): PbBuildEvent {
  return create(BuildEventSchema, {
    event: {
      case: "done",
      value: {
        manifests: r.manifests.map((m) => ({ content: m.content, digest: m.digest, mediaType: m.mediaType, size: BigInt(m.size) })),
        revision: r.revision,
        immutable: r.immutable,
        packages: r.packages,
        image: imageName({ arch: spec.arch, packages: r.packages, ...(spec.user ? { user: spec.user } : {}) }) ?? "",
        sbom: r.sbom,
        provenance: r.provenance,
      },
    },
  });
}

/**
 * Bridges the callback-shaped build into a server stream: events queue up while the
 * client reads; the stream ends with the ImageDone event or the build's error.
 */
async function* buildStream(backend: BuilderBackend, req: BuildRequest, ctx: HandlerContext, log: Log): AsyncGenerator<PbBuildEvent> {
  let spec: ImageSpec;
  try {
    spec = specFromRequest(req);
  } catch (e) {
    throw toConnectError(e, log);
  }
  const pending: PbBuildEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const platform = platformName(spec.arch);
  const push = (ev: PbBuildEvent) => {
    ev.platform = platform;
    pending.push(ev);
    wake?.();
  };
  backend
    .build(spec, (e) => push(eventToProto(e)), ctx.signal, { cancelIfAbandoned: req.cancelIfAbandoned })
    .then((r) => push(doneToProto(r, spec)), (e) => (failure = e))
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
  if (failure !== undefined) throw toConnectError(failure, log);
}

/** The builder's services; `log` receives the bugs that calls run into. */
export function builderRoutes(backend: BuilderBackend, log: Log) {
  return (router: ConnectRouter) => {
    router.service(BuilderService, {
      build: (req, ctx) => buildStream(backend, req, ctx, log),
      async checkPackages(req, ctx) {
        try {
          return await backend.checkPackages([...req.packages], req.tag || "latest", ctx.signal);
        } catch (e) {
          throw toConnectError(e, log);
        }
      },
      async writeIndex(req) {
        try {
          if (!backend.writeIndex) throw new BuildError("invalid_argument", "this builder stores no indexes");
          const entries = req.entries.map((e) => {
            const arch = ARCH_OF[e.architecture];
            if (!arch) throw new BuildError("invalid_argument", "unknown architecture");
            return { arch, mediaType: e.mediaType, digest: e.digest, size: Number(e.size) };
          });
          const r = await backend.writeIndex(req.mediaType, entries);
          return { digest: r.digest, size: BigInt(r.size) };
        } catch (e) {
          throw toConnectError(e, log);
        }
      },
      async getSystems() {
        try {
          return { systems: (await backend.systems?.()) ?? [] };
        } catch (e) {
          throw toConnectError(e, log);
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
