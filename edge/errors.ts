/**
 * The one error type of the edge. Handlers throw a RegistryError; app.onError turns it (and
 * anything unexpected) into the OCI error body in one place (errorResponse).
 */
import { API_VERSION, API_VERSION_HEADER } from "./api-version.ts";

export type ErrorCode =
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "MANIFEST_UNKNOWN"
  | "BLOB_UNKNOWN"
  | "DIGEST_INVALID"
  | "UNSUPPORTED"
  | "RANGE_INVALID"
  | "BUILD_FAILED"
  | "UNAVAILABLE"
  | "DENIED"
  | "TOOMANYREQUESTS"
  | "UNAUTHORIZED"
  | "UNKNOWN";

export class RegistryError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: unknown;
  /** Extra response headers (Retry-After, Allow, Content-Range). */
  readonly headers: Record<string, string>;
  /**
   * A one-line summary sent as the HTTP reason phrase. Registry clients (containers/image,
   * docker) print only the status line of a 5xx answer, never its body.
   */
  reason?: string;

  constructor(status: number, code: ErrorCode, message: string, detail: unknown = null, headers: Record<string, string> = {}) {
    super(message);
    this.name = "RegistryError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }
}

/** Named errors, each with its registered status. */
export const errors = {
  nameInvalid: (reason: string) => new RegistryError(400, "NAME_INVALID", "invalid repository name", { reason }),
  digestInvalid: (reason: string) => new RegistryError(400, "DIGEST_INVALID", "provided digest did not match uploaded content", { reason }),
  nameUnknown: (unknownPackages: string[]) =>
    new RegistryError(404, "NAME_UNKNOWN", `repository name not known to registry: unknown packages: ${unknownPackages.join(", ")}`.slice(0, 1000), { unknownPackages }),
  manifestUnknown: (detail: unknown, message = "manifest unknown") => new RegistryError(404, "MANIFEST_UNKNOWN", message, detail),
  blobUnknown: (digest: string) => new RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry", { digest }),
  unknownRoute: (path: string) =>
    new RegistryError(404, "UNSUPPORTED", "no such endpoint in this registry", { path: path.slice(0, 256) }),
  methodNotAllowed: (method: string, allow: string) =>
    new RegistryError(405, "UNSUPPORTED", "this registry is pull-only", { method: method.slice(0, 32) }, { Allow: allow }),
  rangeNotSatisfiable: (size: number) =>
    new RegistryError(416, "RANGE_INVALID", "requested range not satisfiable", { size }, { "Content-Range": `bytes */${size}` }),
  buildFailed: (detail: { derivation?: string; logTail?: string; message: string }) => {
    const e = new RegistryError(500, "BUILD_FAILED", "the image failed to build", detail);
    const tail = (detail.logTail ?? "").trim().split("\n").slice(-3).join(" | ");
    e.reason = `Build failed: ${detail.derivation ?? detail.message}${tail ? `: ${tail}` : ""}`;
    return e;
  },
  unavailable: (message: string, retryAfterSeconds: number) =>
    new RegistryError(503, "UNAVAILABLE", message, { retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) }),
  /** The builder's policy refuses the image: a client error, retrying changes nothing. */
  denied: (message: string, detail: unknown) => {
    const e = new RegistryError(403, "DENIED", message, detail);
    e.reason = message;
    return e;
  },
  tooManyRequests: (message: string, retryAfterSeconds: number) =>
    new RegistryError(429, "TOOMANYREQUESTS", message, { retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) }),
  /** A binary cache path (narinfo, NAR) the builder never wrote. */
  cacheUnknown: (path: string) => new RegistryError(404, "BLOB_UNKNOWN", "not in this binary cache", { path: path.slice(0, 256) }),
  /** A binary cache path that names no store hash or NAR file at all. */
  cachePathInvalid: (path: string) => new RegistryError(400, "NAME_INVALID", "not a binary cache path", { path: path.slice(0, 256) }),
  internal: (message: string) => new RegistryError(500, "UNKNOWN", "internal error", { message }),
  /** A request the HTTP layer could not take apart (request line, headers, Host); status 400 or 431. */
  malformedRequest: (reason: string, status = 400) =>
    new RegistryError(status, "UNSUPPORTED", "malformed HTTP request", { reason: reason.slice(0, 256) }),
  expectationFailed: (expect: string) =>
    new RegistryError(417, "UNSUPPORTED", "only Expect: 100-continue is understood", { expect: expect.slice(0, 64) }),
};

/** The OCI error response for any thrown value. */
export function errorResponse(err: unknown): Response {
  const e = err instanceof RegistryError ? err : errors.internal(err instanceof Error ? err.message : String(err));
  return new Response(errorBody(e), {
    status: e.status,
    ...(e.reason ? { statusText: reasonPhrase(e.reason) } : {}),
    headers: { [API_VERSION_HEADER]: API_VERSION, "Content-Type": "application/json", ...e.headers },
  });
}

/**
 * The OCI error body, {"errors":[{code,message,detail}]}: the only place one is written (the
 * Node adapter also writes it raw, for requests its HTTP parser refuses before the app).
 */
export function errorBody(e: RegistryError): string {
  return JSON.stringify({ errors: [{ code: e.code, message: e.message, detail: e.detail }] });
}

/** Text safe as an HTTP/1.1 reason phrase: visible ASCII and spaces, at most 512 characters. */
export function reasonPhrase(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, " ").slice(0, 512).trim();
}
