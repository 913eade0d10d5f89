import { timingSafeEqual, createHash } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Services that answer without a token: health checks come from load balancers. */
const OPEN_SERVICES = new Set(["grpc.health.v1.Health"]);

function sameToken(given: string, expected: string): boolean {
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Refuses every call without `authorization: Bearer <token>` before any handler runs. */
export function bearerAuth(token: string): Interceptor {
  return (next) => async (req) => {
    if (!OPEN_SERVICES.has(req.service.typeName)) {
      const header = req.header.get("authorization") ?? "";
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m || !sameToken(m[1]!, token)) {
        throw new ConnectError(m ? "invalid token" : "missing bearer token", Code.Unauthenticated);
      }
    }
    return next(req);
  };
}
