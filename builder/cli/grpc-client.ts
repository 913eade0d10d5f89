import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { ErrorDetailSchema, type ErrorDetail } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import type { RawSettings } from "../image/settings.ts";

const PROTO_ROOT = fileURLToPath(new URL("../../proto/", import.meta.url));

/** BuildEvent as proto-loader decodes it (enums as strings, 64-bit as strings, oneofs named). */
export interface WireBuildEvent {
  event: "phase" | "log" | "layer" | "done";
  /** "linux/arm64": the build's platform (empty from an older builder). */
  platform: string;
  phase?: { phase: string; message: string; queuePosition: number };
  log?: { line: string };
  layer?: { index: number; count: number; digest: string; size: string; reused: boolean; storePaths: number };
  done?: {
    manifests: { content: Buffer; digest: string; mediaType: string; size: string }[];
    revision: string;
    immutable: boolean;
    packages: string[];
    image: string;
    /** Null from a builder older than these fields. */
    sbom: WireDocument | null;
    provenance: WireDocument | null;
  };
}

export interface WireDocument {
  digest: string;
  mediaType: string;
  content: Buffer;
}

/** ImageSettings as proto-loader encodes it: the shape the builder checks (camelCase, the map as an object). */
export type WireSettings = RawSettings;

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
    req: { packages?: string[]; image?: string; tag?: string; architecture?: string; manifestFormat?: string; compression?: string; cancelIfAbandoned?: boolean; settings?: WireSettings; nonroot?: boolean },
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

/**
 * What a failed call says, decoded with the generated schema: the ErrorDetail the builder
 * attaches (kind, plain message, details), read from grpc-status-details-bin the way Connect
 * reads it; without one (a proxy, a refused token) the status's own message, percent-decoded.
 */
export function callError(err: grpc.ServiceError): { message: string; detail?: ErrorDetail } {
  const raw = err.metadata?.get("grpc-status-details-bin")?.[0];
  const trailer = new Headers({ "grpc-status": String(err.code), "grpc-message": err.details ?? "" });
  if (raw instanceof Buffer) trailer.set("grpc-status-details-bin", raw.toString("base64"));
  const status = findTrailerError(trailer);
  const detail = status?.findDetails(ErrorDetailSchema)[0];
  return { message: detail?.message || status?.rawMessage || err.message, ...(detail ? { detail } : {}) };
}

/** The ErrorDetail of a failed call, if it carries one. */
export function errorDetail(err: grpc.ServiceError): ErrorDetail | undefined {
  return callError(err).detail;
}
