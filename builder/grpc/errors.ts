import { Code, ConnectError } from "@connectrpc/connect";
import { BuildError, errorKindToProto, type BuildErrorKind } from "../../common/build-error.ts";
import type { Log } from "../../common/log.ts";
import { ErrorDetailSchema } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";

/** Each build error kind's one gRPC status code. */
export const STATUS_OF: Record<BuildErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  build_failed: Code.FailedPrecondition,
  denied: Code.PermissionDenied,
  timeout: Code.DeadlineExceeded,
  unavailable: Code.Unavailable,
  cancelled: Code.Canceled,
  unauthenticated: Code.Unauthenticated,
  internal: Code.Internal,
};

const INTERNAL_MESSAGE = "internal error in the builder";

/**
 * A BuildError as a ConnectError with an ErrorDetail (its kind, details and plain message).
 * Anything else is a bug: logged with its stack, so someone fixes it, and answered as
 * INTERNAL without internals (never as a retryable UNAVAILABLE, which would hide it).
 */
export function toConnectError(e: unknown, log: Log): ConnectError {
  if (e instanceof ConnectError) return e;
  const err = e instanceof BuildError ? e : new BuildError("internal", INTERNAL_MESSAGE);
  if (!(e instanceof BuildError)) log("bug: internal error", { error: String((e as Error)?.stack ?? e) });
  const d = err.details;
  const metadata = d.retryAfterSeconds ? { "retry-after": String(d.retryAfterSeconds) } : undefined;
  return new ConnectError(err.message, STATUS_OF[err.kind], metadata, [
    {
      desc: ErrorDetailSchema,
      value: {
        kind: errorKindToProto(err.kind),
        message: err.message,
        unknownPackages: d.unknownPackages ?? [],
        derivation: d.derivation ?? "",
        logTail: d.logTail ?? "",
        retryAfterSeconds: d.retryAfterSeconds ?? 0,
      },
    },
  ]);
}
