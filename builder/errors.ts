/**
 * The one error type the builder reports. Each kind maps to one gRPC status code in the
 * service layer (builder/grpc) and to one OCI error on the edge; details travel with it.
 */
export type BuildErrorKind =
  | "invalid_argument" // a name, tag or option that can never be valid
  | "not_found" // packages the package set does not have
  | "build_failed" // Nix failed to realise a derivation
  | "denied" // this builder's policy refuses the image (size, package lists, substitute-only)
  | "timeout" // the build ran past its deadline
  | "unavailable" // overloaded, or the package source cannot be reached; retry later
  | "cancelled" // every caller went away
  | "unauthenticated"
  | "internal";

export interface BuildErrorDetails {
  /** Every unknown package name, for not_found. */
  unknownPackages?: string[];
  /** Names that match several attributes, with their candidates. */
  ambiguous?: { name: string; candidates: string[] }[];
  /** The failing derivation, for build_failed. */
  derivation?: string;
  /** The last lines of the failing build's log. */
  logTail?: string;
  /** Seconds after which a retry may succeed, for unavailable. */
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

export function isBuildError(e: unknown): e is BuildError {
  return e instanceof BuildError;
}
