/**
 * The one build error of the house: the builder throws it, the gRPC layer carries its kind in
 * the ErrorDetail, the edge's builder client rebuilds it and the CLI prints it. Its kinds are
 * the proto's ErrorKind values, spelled in lowercase ("not_found" is ERROR_KIND_NOT_FOUND).
 */
import { ErrorKind } from "../proto/gen/nixport/builder/v1/builder_pb.ts";

export type BuildErrorKind = Lowercase<Exclude<keyof typeof ErrorKind, "UNSPECIFIED">>;

export interface BuildErrorDetails {
  /** Every unknown package name, for not_found. */
  unknownPackages?: string[];
  /** Names that match several attributes, with their candidates. */
  ambiguous?: { name: string; candidates: string[] }[];
  /** The failing derivation, for build_failed. */
  derivation?: string;
  /** The last lines of the failing build's log. */
  logTail?: string;
  /** Seconds after which a retry may succeed, for unavailable and timeout. */
  retryAfterSeconds?: number;
}

export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(
    readonly kind: BuildErrorKind,
    message: string,
    readonly details: BuildErrorDetails = {},
  ) {
    super(message);
  }
}

/** The proto's value for a kind. */
export function errorKindToProto(kind: BuildErrorKind): ErrorKind {
  return ErrorKind[kind.toUpperCase() as Uppercase<BuildErrorKind>];
}

/** The kind for a proto value; undefined for UNSPECIFIED (a status without our detail) or a value this code does not know. */
export function errorKindFromProto(kind: ErrorKind): BuildErrorKind | undefined {
  if (kind === ErrorKind.UNSPECIFIED) return undefined;
  const name = ErrorKind[kind] as keyof typeof ErrorKind | undefined;
  return name?.toLowerCase() as BuildErrorKind | undefined;
}
