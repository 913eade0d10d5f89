import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type * as grpc from "@grpc/grpc-js";
import { parseName } from "../../common/names.ts";
import type { Arch } from "../../common/image-request.ts";
import { platformName } from "../../common/platforms.ts";
import { authMetadata, builderClient, callError, type BuilderGrpcClient, type WireBuildEvent, type WireDocument } from "./grpc-client.ts";
import { Progress } from "./progress.ts";

const USAGE = `usage: nixport-build --builder HOST:PORT [--token T] [--tag REF] [--oci] [--zstd] [--arch amd64|arm64|amd64,arm64]
                     [--registry HOST] [--sbom FILE] [--provenance FILE] [IMAGE SETTINGS] NAME...

Builds an image on a nixport builder, showing progress, prints the manifest digest on stdout
and the reference to pull on stderr. NAME is an image name as a pull writes it
(shell/git/htop, arm64/hello; several NAMEs are joined with /), which gives the very image
docker pull REGISTRY/NAME gets, or package attribute paths (python3Packages.requests). The
token may also come from NIXPORT_BUILDER_TOKEN, the registry from NIXPORT_REGISTRY.
--sbom and --provenance write the image's SPDX 2.3 SBOM and its in-toto SLSA provenance to FILE.
--arch amd64,arm64 builds both at once: progress, digests and errors each start with the
platform (linux/arm64), and the exit code is 1 when any failed.

Image settings (repeat a flag once per item, in order; an item starting with - as --cmd=-c):
  --entrypoint ARG   the command the image runs (repeat for its arguments)
  --cmd ARG          its arguments, or the command without an entrypoint (repeat)
  --env NAME=VALUE   an environment variable (repeat)
  --workdir DIR      the working directory (absolute)
  --user USER        user, uid, user:group or uid:gid
  --label KEY=VALUE  a label (repeat)
  --expose PORT      PORT, PORT/tcp, PORT/udp or PORT/sctp (repeat)`;

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const SETTINGS_OPTIONS = {
  entrypoint: { type: "string", multiple: true },
  cmd: { type: "string", multiple: true },
  env: { type: "string", multiple: true },
  workdir: { type: "string" },
  user: { type: "string" },
  label: { type: "string", multiple: true },
  expose: { type: "string", multiple: true },
} as const;

/** The flags as the proto's ImageSettings; the builder checks them (and names a bad one). */
function settingsFromFlags(o: { entrypoint?: string[]; cmd?: string[]; env?: string[]; workdir?: string; user?: string; label?: string[]; expose?: string[] }) {
  const labels = Object.fromEntries((o.label ?? []).map((l) => (l.includes("=") ? [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] : [l, ""])));
  return { entrypoint: o.entrypoint ?? [], cmd: o.cmd ?? [], env: o.env ?? [], workingDir: o.workdir ?? "", user: o.user ?? "", labels, exposedPorts: o.expose ?? [] };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], stdout: Out, stderr: Out, env: NodeJS.ProcessEnv): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        builder: { type: "string" },
        token: { type: "string" },
        tag: { type: "string", default: "latest" },
        oci: { type: "boolean", default: false },
        zstd: { type: "boolean", default: false },
        arch: { type: "string", default: "amd64" },
        registry: { type: "string" },
        json: { type: "boolean", default: false },
        sbom: { type: "string" },
        provenance: { type: "string" },
        ...SETTINGS_OPTIONS,
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    stderr.write(`nixport-build: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const o = args.values;
  if (o.help) {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  const builder = o.builder ?? env.NIXPORT_BUILDER;
  const arches = [...new Set(o.arch!.split(",").map((a) => a.trim()))];
  if (!builder || args.positionals.length === 0 || !arches.every((a) => a === "amd64" || a === "arm64")) {
    stderr.write(`${USAGE}\n`);
    return 2;
  }
  const several = arches.length > 1;
  if (several && (o.sbom || o.provenance)) {
    stderr.write(`nixport-build: --sbom and --provenance take one --arch\n`);
    return 2;
  }
  const token = o.token ?? env.NIXPORT_BUILDER_TOKEN;
  const client = builderClient(builder);
  const settings = settingsFromFlags(o);
  const request = (arch: Arch) => ({
    ...what(args.positionals, arch),
    tag: o.tag,
    ...(o.oci || o.zstd ? { manifestFormat: "MANIFEST_FORMAT_OCI" } : {}),
    compression: o.zstd ? "COMPRESSION_ZSTD" : "COMPRESSION_GZIP",
    // Ctrl-C at a terminal means stop, unless someone else wants the same image.
    cancelIfAbandoned: true,
    settings,
  });
  // Several platforms build in parallel, each line of their progress and results named.
  const label = (arch: Arch) => (several ? `${platformName(arch)}: ` : "");
  try {
    const results = await Promise.allSettled(
      arches.map(async (arch) => {
        const progress = new Progress(stderr, label(arch));
        try {
          return await build(client, request(arch), token, progress);
        } finally {
          progress.finish();
        }
      }),
    );
    let failed = false;
    for (const [i, r] of results.entries()) {
      const arch = arches[i]!;
      if (r.status === "rejected") {
        failed = true;
        reportError(stderr, label(arch), r.reason);
        continue;
      }
      const done = r.value;
      const m = done.manifests[0]!;
      // A pull of the name gets the image without settings: one with settings is pulled by digest.
      const pinned = JSON.stringify(settings) !== JSON.stringify(settingsFromFlags({}));
      const reference = done.image ? `${o.registry ?? env.NIXPORT_REGISTRY ?? "<registry>"}/${done.image}${pinned ? `@${m.digest}` : `:${o.tag}`}` : undefined;
      await writeDocument(o.sbom, done.sbom, "SBOM");
      await writeDocument(o.provenance, done.provenance, "provenance");
      const documents = { sbom: done.sbom?.digest, provenance: done.provenance?.digest };
      const platform = several ? { platform: platformName(arch) } : {};
      if (o.json) stdout.write(`${JSON.stringify({ ...platform, digest: m.digest, mediaType: m.mediaType, size: Number(m.size), revision: done.revision, image: done.image, reference, ...documents })}\n`);
      else stdout.write(`${several ? `${platformName(arch)} ` : ""}${m.digest}\n`);
      if (reference) stderr.write(`${label(arch)}pull: ${reference}\n`);
    }
    return failed ? 1 : 0;
  } catch (e) {
    reportError(stderr, "", e);
    return 1;
  } finally {
    client.close();
  }
}

/** A failed call as the CLI prints it: the message, then the failing derivation and its log tail. */
function reportError(stderr: Out, label: string, e: unknown): void {
  const err = e as grpc.ServiceError;
  const { message, detail: d } = err.metadata ? callError(err) : { message: err.message, detail: undefined };
  stderr.write(`nixport-build: ${label}${message}\n`);
  if (d?.derivation) stderr.write(`${label}failed derivation: ${d.derivation}\n`);
  if (d?.logTail) stderr.write(`${d.logTail.trimEnd()}\n`);
}

/** Writes a document the builder sent to `file` (when asked for). */
async function writeDocument(file: string | undefined, doc: WireDocument | null, what: string): Promise<void> {
  if (file === undefined) return;
  if (!doc?.content?.length) throw new Error(`the builder sent no ${what} (an older builder?)`);
  await writeFile(file, doc.content);
}

/**
 * What the positional arguments ask for: an image name when they read as one in the
 * registry's grammar (so the builder reads it exactly as a pull is read), else package
 * attribute paths (camelCase and other spellings no repository name allows).
 */
function what(positionals: string[], arch: Arch): { image: string } | { packages: string[]; architecture: string } {
  const name = positionals.join("/");
  if (parseName(name).ok) return { image: arch === "arm64" ? `arm64/${name}` : name };
  return { packages: positionals, architecture: arch === "arm64" ? "ARCHITECTURE_ARM64" : "ARCHITECTURE_AMD64" };
}

/** Runs one Build call, feeding progress; resolves with its ImageDone. */
function build(client: BuilderGrpcClient, request: Parameters<BuilderGrpcClient["build"]>[0], token: string | undefined, progress: Progress) {
  return new Promise<NonNullable<WireBuildEvent["done"]>>((resolve, reject) => {
    const call = client.build(request, authMetadata(token));
    let result: WireBuildEvent["done"];
    call.on("data", (e: WireBuildEvent) => {
      if (e.event === "done") result = e.done;
      else progress.event(e);
    });
    call.on("error", reject);
    call.on("end", () => (result ? resolve(result) : reject(new Error("the builder ended the stream without a result"))));
  });
}
