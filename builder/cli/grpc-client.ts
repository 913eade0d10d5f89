import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { RawSettings } from "../image/settings.ts";

const PROTO_ROOT = fileURLToPath(new URL("../../proto/", import.meta.url));

/** BuildEvent as proto-loader decodes it (enums as strings, 64-bit as strings, oneofs named). */
export interface WireBuildEvent {
  event: "phase" | "log" | "layer" | "done";
  phase?: { phase: string; message: string; queuePosition: number };
  log?: { line: string };
  layer?: { index: number; count: number; digest: string; size: string; reused: boolean; storePaths: number };
  done?: {
    manifests: { content: Buffer; digest: string; mediaType: string; size: string }[];
    revision: string;
    immutable: boolean;
    packages: string[];
  };
}

/** ImageSettings as proto-loader encodes it: the shape the builder checks (camelCase, the map as an object). */
export type WireSettings = RawSettings;

export interface WireErrorDetail {
  unknownPackages: string[];
  derivation: string;
  logTail: string;
  retryAfterSeconds: number;
}

const loaded = protoLoader.loadSync(["nixport/builder/v1/builder.proto", "grpc/health/v1/health.proto"], {
  includeDirs: [PROTO_ROOT],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const pkg = grpc.loadPackageDefinition(loaded) as unknown as {
  nixport: { builder: { v1: { BuilderService: grpc.ServiceClientConstructor } } };
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

/**
 * A grpc-js client for the builder. grpc-js refuses call credentials on cleartext channels,
 * so the bearer token travels as per-call metadata: pass `authMetadata(token)` to each call.
 */
export function builderClient(address: string): BuilderGrpcClient {
  return new pkg.nixport.builder.v1.BuilderService(address, grpc.credentials.createInsecure()) as unknown as BuilderGrpcClient;
}

export interface BuilderGrpcClient extends grpc.Client {
  build(
    req: { packages: string[]; tag?: string; architecture?: string; manifestFormat?: string; compression?: string; cancelIfAbandoned?: boolean; settings?: WireSettings; nonroot?: boolean },
    md: grpc.Metadata,
  ): grpc.ClientReadableStream<WireBuildEvent>;
  checkPackages(
    req: { packages: string[]; tag?: string },
    md: grpc.Metadata,
    cb: (err: grpc.ServiceError | null, res: { resolved: string[]; unknown: string[] }) => void,
  ): void;
}

export interface HealthGrpcClient extends grpc.Client {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
}

export function healthClient(address: string): HealthGrpcClient {
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure()) as unknown as HealthGrpcClient;
}

/** Metadata carrying the bearer token (grpc-js has no call credentials on cleartext channels). */
export function authMetadata(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set("authorization", `Bearer ${token}`);
  return md;
}

/** Decodes the ErrorDetail a failed call carries in grpc-status-details-bin, if any. */
export function errorDetail(err: grpc.ServiceError): WireErrorDetail | undefined {
  const raw = err.metadata?.get("grpc-status-details-bin")?.[0];
  if (!raw || typeof raw === "string") return undefined;
  // google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
  const status = decodeFields(raw);
  for (const any of status.get(3) ?? []) {
    const fields = decodeFields(any as Buffer);
    const typeUrl = (fields.get(1)?.[0] as Buffer | undefined)?.toString("utf8") ?? "";
    if (!typeUrl.endsWith("/nixport.builder.v1.ErrorDetail")) continue;
    const d = decodeFields(fields.get(2)?.[0] as Buffer);
    return {
      unknownPackages: (d.get(1) ?? []).map((b) => (b as Buffer).toString("utf8")),
      derivation: (d.get(2)?.[0] as Buffer | undefined)?.toString("utf8") ?? "",
      logTail: (d.get(3)?.[0] as Buffer | undefined)?.toString("utf8") ?? "",
      retryAfterSeconds: Number(d.get(4)?.[0] ?? 0),
    };
  }
  return undefined;
}

/** Minimal protobuf wire decoding: field number → values (varints as numbers, bytes as Buffers). */
function decodeFields(buf: Buffer): Map<number, (Buffer | number)[]> {
  const out = new Map<number, (Buffer | number)[]>();
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const type = key & 7;
    let value: Buffer | number;
    if (type === 0) value = varint();
    else if (type === 2) {
      const len = varint();
      value = buf.subarray(i, i + len);
      i += len;
    } else if (type === 5) ((value = buf.readUInt32LE(i)), (i += 4));
    else if (type === 1) ((value = Number(buf.readBigUInt64LE(i))), (i += 8));
    else throw new Error(`unsupported wire type ${type}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
