import { Code, ConnectError } from "@connectrpc/connect";
import { BuildError, type BuildErrorKind } from "../errors.ts";
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

/** A BuildError as a ConnectError with an ErrorDetail; anything else as INTERNAL without internals. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (!(e instanceof BuildError)) {
    console.error(JSON.stringify({ level: "error", msg: "internal error", error: String((e as Error)?.stack ?? e) }));
    return new ConnectError("internal error in the builder", Code.Internal);
  }
  const d = e.details;
  const metadata = d.retryAfterSeconds ? { "retry-after": String(d.retryAfterSeconds) } : undefined;
  return new ConnectError(e.message, STATUS_OF[e.kind], metadata, [
    {
      desc: ErrorDetailSchema,
      value: {
        unknownPackages: d.unknownPackages ?? [],
        derivation: d.derivation ?? "",
        logTail: d.logTail ?? "",
        retryAfterSeconds: d.retryAfterSeconds ?? 0,
      },
    },
  ]);
}
