import { parseArgs } from "node:util";
import type * as grpc from "@grpc/grpc-js";
import { authMetadata, builderClient, errorDetail, type WireBuildEvent } from "./grpc-client.ts";
import { Progress } from "./progress.ts";

const USAGE = `usage: nixport-build --builder HOST:PORT [--token T] [--tag REF] [--oci] [--zstd] [--arch amd64|arm64]
                     [IMAGE SETTINGS] PACKAGE...

Builds an image from Nix packages on a nixport builder, showing progress, and prints the
manifest digest. The token may also come from NIXPORT_BUILDER_TOKEN.

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
        json: { type: "boolean", default: false },
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
  if (!builder || args.positionals.length === 0 || !["amd64", "arm64"].includes(o.arch!)) {
    stderr.write(`${USAGE}\n`);
    return 2;
  }
  const token = o.token ?? env.NIXPORT_BUILDER_TOKEN;
  const progress = new Progress(stderr);
  const client = builderClient(builder);
  try {
    const done = await new Promise<NonNullable<WireBuildEvent["done"]>>((resolve, reject) => {
      const call = client.build(
        {
          packages: args.positionals,
          tag: o.tag,
          architecture: o.arch === "arm64" ? "ARCHITECTURE_ARM64" : "ARCHITECTURE_AMD64",
          manifestFormat: o.oci || o.zstd ? "MANIFEST_FORMAT_OCI" : "MANIFEST_FORMAT_DOCKER",
          compression: o.zstd ? "COMPRESSION_ZSTD" : "COMPRESSION_GZIP",
          // Ctrl-C at a terminal means stop, unless someone else wants the same image.
          cancelIfAbandoned: true,
          settings: settingsFromFlags(o),
        },
        authMetadata(token),
      );
      let result: WireBuildEvent["done"];
      call.on("data", (e: WireBuildEvent) => {
        if (e.event === "done") result = e.done;
        else progress.event(e);
      });
      call.on("error", reject);
      call.on("end", () => (result ? resolve(result) : reject(new Error("the builder ended the stream without a result"))));
    });
    progress.finish();
    const m = done.manifests[0]!;
    if (o.json) stdout.write(`${JSON.stringify({ digest: m.digest, mediaType: m.mediaType, size: Number(m.size), revision: done.revision })}\n`);
    else stdout.write(`${m.digest}\n`);
    return 0;
  } catch (e) {
    progress.finish();
    const err = e as grpc.ServiceError;
    stderr.write(`nixport-build: ${err.details || err.message}\n`);
    const d = err.metadata ? errorDetail(err) : undefined;
    if (d?.derivation) stderr.write(`failed derivation: ${d.derivation}\n`);
    if (d?.logTail) stderr.write(`${d.logTail.trimEnd()}\n`);
    return 1;
  } finally {
    client.close();
  }
}
