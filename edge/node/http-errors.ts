/**
 * Answers a Node HTTP server gives on its own, before the app sees a request: what its parser
 * refuses (request line, header syntax, headers over 16 KiB), CONNECT, an Expect other than
 * 100-continue, HTTP/1.1 without Host, and URLs @hono/node-server cannot build (bad Host,
 * backslashes). Node and the adapter answer those with an empty 400/417/431, or hang up on
 * CONNECT; here each gets the OCI error body every other answer has, so a client sees one
 * error shape whatever it sent.
 */
import { RequestError } from "@hono/node-server";
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errorBody, errorResponse, errors, type RegistryError } from "../errors.ts";
import { ALLOWED_METHODS } from "../routes/table.ts";

/** A whole HTTP/1.1 answer as text, for sockets that have no ServerResponse. */
function rawAnswer(e: RegistryError): string {
  const body = errorBody(e);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    [API_VERSION_HEADER]: API_VERSION,
    ...e.headers,
    Connection: "close",
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? "Error"}\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}

/** The parser's error codes that are not "bad request". */
function parserStatus(code: string | undefined): number {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}

/** Node's defaults for these events, with OCI bodies. */
export function answerOutsideTheApp(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node's own handler: nothing to say on a reset socket, or once an answer has begun.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || answering?.headersSent) {
      socket.destroy();
      return;
    }
    const status = parserStatus(err.code);
    const reason = status === 431 ? "request headers larger than the server accepts" : (err.code ?? "unparsable request");
    socket.end(rawAnswer(errors.malformedRequest(reason, status)));
  });
  // Without a listener Node closes CONNECT connections silently.
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    socket.end(rawAnswer(errors.methodNotAllowed("CONNECT", ALLOWED_METHODS)));
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const e = errors.expectationFailed(String(req.headers.expect ?? ""));
    const body = errorBody(e);
    res.writeHead(e.status, { [API_VERSION_HEADER]: API_VERSION, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  });
}

/** @hono/node-server's errorHandler: a request it could not turn into a URL is the client's fault. */
export function adapterError(err: unknown): Response {
  return errorResponse(err instanceof RequestError ? errors.malformedRequest(err.message) : err);
}

/** HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own check answers without a body, so it is made here. */
export function missingHost(incoming: IncomingMessage): Response | null {
  if (incoming.httpVersion !== "1.1" || incoming.headers.host !== undefined) return null;
  return adapterError(new RequestError("an HTTP/1.1 request needs a Host header"));
}
