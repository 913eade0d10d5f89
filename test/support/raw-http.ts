/**
 * One HTTP/1.1 exchange over a bare TCP socket: the request goes out byte for byte, the answer
 * is parsed strictly (status line, header syntax, Content-Length or chunked framing), so a
 * server that answers with something that is not HTTP, or with nothing, is caught. Also the
 * judge of an answer: success, or a well-formed OCI error body.
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  reason: string;
  /** Lowercased names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** Status codes of 1xx answers seen before the final one (e.g. 100 Continue). */
  informational: number[];
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;

type Parsed = { response: RawResponse } | { incomplete: true } | { invalid: string };

/** Parses the first final answer in buf; `closed` says the server has closed the connection. */
export function parseResponse(buf: Buffer, head: boolean, closed: boolean): Parsed {
  const informational: number[] = [];
  let offset = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", offset);
    if (end < 0) return closed ? { invalid: `no complete header block in ${JSON.stringify(buf.subarray(offset, offset + 80).toString("latin1"))}` } : { incomplete: true };
    const [statusLine = "", ...lines] = buf.subarray(offset, end).toString("latin1").split("\r\n");
    const m = STATUS_LINE.exec(statusLine);
    if (!m) return { invalid: `bad status line ${JSON.stringify(statusLine.slice(0, 80))}` };
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const h = HEADER_LINE.exec(line);
      if (!h) return { invalid: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
      const key = h[1]!.toLowerCase();
      headers.set(key, [...(headers.get(key) ?? []), h[2]!]);
    }
    const status = Number(m[1]);
    offset = end + 4;
    if (status < 200) {
      informational.push(status);
      continue;
    }
    const body = readBody(buf.subarray(offset), headers, head || status === 204 || status === 304, closed);
    if ("invalid" in body || "incomplete" in body) return body;
    return { response: { status, reason: m[2] ?? "", headers, body: body.body, informational } };
  }
}

function readBody(rest: Buffer, headers: Map<string, string[]>, none: boolean, closed: boolean): { body: Buffer } | { incomplete: true } | { invalid: string } {
  if (none) return { body: Buffer.alloc(0) };
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te && cl) return { invalid: "both Transfer-Encoding and Content-Length" };
  if (te) {
    if (te.join(",").toLowerCase().trim() !== "chunked") return { invalid: `transfer-encoding ${te.join(",")}` };
    return dechunk(rest, closed);
  }
  if (cl) {
    if (new Set(cl).size !== 1 || !/^\d{1,15}$/.test(cl[0]!)) return { invalid: `content-length ${cl.join(",")}` };
    const n = Number(cl[0]);
    if (rest.length >= n) return { body: rest.subarray(0, n) };
    return closed ? { invalid: `body cut short: ${rest.length} of ${n} bytes` } : { incomplete: true };
  }
  return closed ? { body: rest } : { incomplete: true }; // delimited by the close
}

function dechunk(rest: Buffer, closed: boolean): { body: Buffer } | { incomplete: true } | { invalid: string } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = rest.indexOf("\r\n", at);
    if (eol < 0) return closed ? { invalid: "chunked body cut short" } : { incomplete: true };
    const size = /^([0-9a-fA-F]{1,8})(;.*)?$/.exec(rest.subarray(at, eol).toString("latin1"));
    if (!size) return { invalid: "bad chunk size line" };
    const n = parseInt(size[1]!, 16);
    if (n === 0) {
      if (rest.indexOf("\r\n", eol + 2) >= 0) return { body: Buffer.concat(parts) };
      return closed ? { invalid: "chunked body without its end" } : { incomplete: true };
    }
    if (rest.length < eol + 2 + n + 2) return closed ? { invalid: "chunk cut short" } : { incomplete: true };
    parts.push(rest.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/** Sends bytes on a new connection and reads the first final answer (then hangs up). */
export function exchange(port: number, bytes: Buffer, opts: { head: boolean; timeoutMs?: number }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      const r = parseResponse(buf, opts.head, closed);
      if ("incomplete" in r) return;
      done = true;
      socket.destroy();
      clearTimeout(timer);
      if ("invalid" in r) reject(new Error(`not a valid HTTP answer: ${r.invalid}`));
      else resolve(r.response);
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 5000} ms (got ${buf.length} bytes)`));
    }, opts.timeoutMs ?? 5000);
    socket.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      finish(false);
    });
    // A reset after a complete answer is fine; before it, what arrived is judged as cut short.
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.write(bytes);
  });
}

/** Error codes of the OCI distribution spec (and UNKNOWN, its catch-all). */
export const OCI_ERROR_CODES = new Set([
  "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
  "RANGE_INVALID", "BUILD_FAILED", "UNAVAILABLE", "UNKNOWN",
]);

/**
 * What is wrong with an answer, or null: it must not be a 5xx, and an error must be an OCI
 * error (application/json; the body {"errors":[{code,message,detail}]} unless it is a HEAD).
 */
export function judgeAnswer(res: RawResponse, head: boolean): string | null {
  if (res.status >= 500) return `server error ${res.status} ${res.reason}`;
  if (res.status < 400) return null;
  const type = (res.headers.get("content-type") ?? []).join(",").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return `error ${res.status} with Content-Type ${JSON.stringify(type)}`;
  if (head) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(res.body.toString("utf8"));
  } catch {
    return `error ${res.status} body is not JSON: ${JSON.stringify(res.body.subarray(0, 80).toString("latin1"))}`;
  }
  const list = (doc as { errors?: unknown }).errors;
  if (!Array.isArray(list) || list.length === 0) return `error ${res.status} without an errors list`;
  for (const e of list as { code?: unknown; message?: unknown }[]) {
    if (typeof e !== "object" || e === null) return "an error entry is not an object";
    if (typeof e.code !== "string" || !OCI_ERROR_CODES.has(e.code)) return `unknown error code ${JSON.stringify(e.code)}`;
    if (typeof e.message !== "string" || !("detail" in e)) return `error entry without message or detail: ${JSON.stringify(e).slice(0, 120)}`;
  }
  return null;
}
