/**
 * A deterministic generator of hostile HTTP/1.1 requests for a pull registry, written as raw
 * bytes so that no client library normalises, escapes or refuses them on the way: hostile
 * repository names (traversal, percent- and double-encoding, unicode, NUL, Nix-expression
 * fragments, shell), tags and digests, odd methods, Accept and Range garbage, huge headers
 * and paths, query strings everywhere, and request lines and framing that are not HTTP at all.
 * Pure: the same seed gives the same requests.
 */
import { prng } from "./prng.ts";

export interface FuzzRequest {
  /** What the request tries (name, reference, blob, method, header, path, raw), for summaries. */
  kind: string;
  /** The method as sent, so that a HEAD answer is read without a body. */
  method: string;
  bytes: Buffer;
}

export interface FuzzContext {
  /** Digests the server holds (layers, configs, manifests): blob requests with Range reach content. */
  knownDigests: readonly string[];
  /** Repository names that are valid and buildable (e.g. "hello", "shell/git"). */
  validNames: readonly string[];
}


class Pick {
  constructor(private readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  one<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const HEX64 = "0123456789abcdef".repeat(4);
const ZERO_DIGEST = `sha256:${"0".repeat(64)}`;

const VALID_PIECES = ["hello", "git", "htop", "shell", "arm64", "amd64", "python3packages.requests", "nosuchpackage", "a-b", "a__b", "manifests", "blobs"];
const HOSTILE_PIECES = [
  "", ".", "..", "...", "%2e", "%2e%2e", "%2E%2E", ".%2e", "%252e%252e", "%2F", "%252F", "%5C", "\\", "%00", "%2500", "\0",
  "Git", "HELLO", "gït", "ｇｉｔ", "g\u202eit", "🐚", "\u0000git", "-git", "git-", "git.", ".git", "git___x", "git__", "a".repeat(256),
  '${builtins.readFile "/etc/passwd"}', "${toString 1}", "builtins.readFile", "import <nixpkgs>", "(import <nixpkgs> {}).hello",
  '"; rm -rf /', "'; rm -rf / #", "$(id)", "`id`", "hello;ls", "hello|cat", "hello&&id", "~root", "*", "?", "#frag", "a b", "\t",
  "\r\nX-Injected: 1", "%0d%0aX-Injected:%201", "<script>", "{}", "[]", "1e309", "-1", "a:b", "a@b", "..;", "%c0%ae%c0%ae",
];
const VALID_TAGS = ["latest", "v1.0", "nixos-24.05", "a".repeat(128), "0123456789abcdef0123456789abcdef01234567"];
const HOSTILE_TAGS = [
  "", ".", "..", "%2e%2e", "A".repeat(129), "-latest", ".latest", "latest%00", "lat est", "${x}", "lätest", ":", "sha256:",
  `sha256:${"0".repeat(63)}`, `sha256:${"G".repeat(64)}`, ZERO_DIGEST, `SHA256:${"0".repeat(64)}`, `sha512:${"0".repeat(128)}`,
  "md5:abc", `sha256%3A${HEX64}`, "..%2F..%2Fetc%2Fpasswd", "latest;rm -rf /", "builtins.readFile", "99999999999999999999",
  "latest%2F..", "%", "%ZZ", "latest#x",
];
const RANGES = [
  "bytes=0-0", "bytes=0-", "bytes=2-5", "bytes=5-1", "bytes=-0", "bytes=-5", "bytes=0-1,2-3", "bytes=0-0,-1", "bytes=99999999999999999999-",
  "bytes=0-99999999999999999999", "bytes=--1", "bytes=1-2-3", "bytes=", "bytes", "octets=0-1", "bytes=a-b", "bytes= 0-1", "bytes=-99999999",
  "bytes=9999999-", "Bytes=0-1", "bytes=0x10-0x20", ",,,,", "bytes=0-1, 0-1, 0-1", "bytes=1e3-",
];
const ACCEPTS = [
  "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.index.v1+json", "*/*", "", "x".repeat(9000), "application/vnd.oci.image.manifest.v1+json;q=abc",
  ";;;,,,", "application/json;q=0", "application/vnd.docker.distribution.manifest.v2+json;q=0, */*;q=0", "\t,;=;~", "ÿþ", "text/html",
];
const QUERIES = ["n=-1", "last=%00", "n=99999999999999999999", "a=${x}", "%%%", `x=${"y".repeat(3000)}`, "n=1&n=2", "?", "&&&", "last=../../", "digest=sha256:00", "n=1e309"];
const METHODS = ["PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "PURGE", "LINK", "M-SEARCH", "get", "Get", "FOO", "G3T", "G@T", "A".repeat(300), "GET\tX"];
const HOSTS = ["127.0.0.1", "<x>&\"'", "a b", "evil.example:99999", "[::1]", "[::1", "ｅｖｉｌ", "a\\b", "@evil", "a/b", "", "x".repeat(3000)];

/** Encodes a piece the way a confused or malicious client might. */
function encode(p: Pick, piece: string): string {
  switch (p.int(8)) {
    case 0:
    case 1:
      return encodeURIComponent(piece);
    case 2:
      return encodeURIComponent(encodeURIComponent(piece));
    case 3:
      return piece.replace(/[./]/g, (ch) => `%${ch.charCodeAt(0).toString(16)}`);
    default:
      return piece; // raw: spaces, quotes, NUL and UTF-8 go on the wire as they are
  }
}

function name(p: Pick, ctx: FuzzContext): string {
  if (p.chance(0.15)) return p.one(ctx.validNames);
  const parts: string[] = [];
  const count = 1 + p.int(4);
  for (let i = 0; i < count; i++) parts.push(p.chance(0.45) ? p.one(VALID_PIECES) : encode(p, p.one(HOSTILE_PIECES)));
  return parts.join(p.one(["/", "/", "/", "/", "//", "/./", "/../", "%2F"]));
}

function reference(p: Pick): string {
  return p.chance(0.4) ? p.one(VALID_TAGS) : encode(p, p.one(HOSTILE_TAGS));
}

function digest(p: Pick, ctx: FuzzContext): string {
  if (ctx.knownDigests.length && p.chance(0.6)) return p.one(ctx.knownDigests);
  return p.one([ZERO_DIGEST, `sha256:${HEX64.toUpperCase()}`, "sha256:..%2F..%2Fetc", "..%2F..%2F", `sha256%3A${HEX64}`, `sha512:${"0".repeat(128)}`, "sha256:", "%00", encode(p, p.one(HOSTILE_TAGS))]);
}

function query(p: Pick): string {
  return p.chance(0.25) ? `?${p.one(QUERIES)}` : "";
}

/** A path to a registry route with something wrong in it (or nothing wrong, sometimes). */
function routePath(p: Pick, ctx: FuzzContext, kind: string): string {
  const n = kind === "name" ? name(p, ctx) : p.one(ctx.validNames);
  const resource = kind === "blob" ? "blobs" : kind === "reference" ? "manifests" : p.one(["manifests", "manifests", "blobs", "tags"]);
  if (resource === "blobs") return `/v2/${n}/blobs/${digest(p, ctx)}${query(p)}`;
  if (resource === "tags") return `/v2/${n}/tags/list${query(p)}`;
  return `/v2/${n}/manifests/${kind === "name" ? p.one(VALID_TAGS) : reference(p)}${query(p)}`;
}

function oddPath(p: Pick, ctx: FuzzContext): string {
  const base = routePath(p, ctx, "reference");
  switch (p.int(10)) {
    case 0:
      return `/v2/${"a/".repeat(1000 + p.int(9000))}manifests/latest`; // long; past 16 KiB the parser refuses it
    case 1:
      return `/v2/${"x".repeat(2000 + p.int(3000))}/manifests/latest`;
    case 2:
      return base.replace(/\//g, "//");
    case 3:
      return `/v2/../../../../etc/passwd${query(p)}`;
    case 4:
      return `/v2/%2e%2e/%2e%2e/etc/passwd/manifests/latest${query(p)}`;
    case 5:
      return p.one(["/", "//", "/v2", "/v2/", "//v2//", "/v2/_catalog", "/v2/_catalog?n=10", "/v1/", "/v3/", "/favicon.ico", "/.git/config", "/v2/hello/blobs/uploads/"]) + query(p);
    case 6:
      return encodeURIComponent(base).replace(/%2F/g, "/"); // every reserved character escaped
    case 7:
      return base.replace(/[a-z]/g, (ch) => (p.chance(0.3) ? `%${ch.charCodeAt(0).toString(16)}` : ch));
    case 8:
      return `${base}${p.one(["/", "/.", "/..", "%00", "#", ";x=1", "?", "/manifests/latest"])}`;
    default:
      return base.toUpperCase();
  }
}

function headerLines(p: Pick, kind: string): [string, string][] {
  const headers: [string, string][] = [];
  if (kind === "blob" || p.chance(0.1)) headers.push(["Range", p.one(RANGES)]);
  if (kind === "header" || p.chance(0.3)) headers.push(["Accept", p.one(ACCEPTS)]);
  if (kind !== "header") return headers;
  switch (p.int(8)) {
    case 0:
      headers.push(["X-Big", "a".repeat(p.chance(0.5) ? 20_000 : 12_000)]);
      break;
    case 1:
      for (let i = 0; i < 300; i++) headers.push([`X-H${i}`, "v"]);
      break;
    case 2:
      headers.push(["Cookie", `a=${"b".repeat(p.int(17_000))}`]);
      break;
    case 3:
      headers.push(["If-None-Match", p.one(['"sha256:00"', "*", "\"", "W/\"x\""])], ["If-Modified-Since", "yesterday"]);
      break;
    case 4:
      headers.push(["Authorization", p.one(["Bearer", "Basic %%%", `Bearer ${"x".repeat(4000)}`, "Digest x"])]);
      break;
    case 5:
      headers.push(["X-Forwarded-For", "1.1.1.1, ${x}"], ["X-Forwarded-Host", "<evil>"], ["Forwarded", "for=\"[::1]\";proto=gopher"]);
      break;
    case 6:
      headers.push(["Content-Type", "application/vnd.oci.image.manifest.v1+json"], ["Content-Length", "0"]);
      break;
    default:
      headers.push(["Range", p.one(RANGES)], ["Accept-Encoding", "gzip, br, zstd, ;q=x"]);
  }
  return headers;
}

function serialise(method: string, target: string, host: string, headers: [string, string][], body = ""): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, ...headers.map(([k, v]) => `${k}: ${v}`), "Connection: close"];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n${body}`, "utf8");
}

/** Request lines and framing that are broken as HTTP, around a generated path. */
function raw(p: Pick, path: string): Buffer {
  const h = "Host: 127.0.0.1\r\n";
  const templates: (() => string | Buffer)[] = [
    () => `GET ${path} HTTP/9.9\r\n${h}\r\n`,
    () => `GET ${path}\r\n\r\n`,
    () => `GET  ${path}  HTTP/1.1\r\n${h}\r\n`,
    () => `\r\n\r\nGET ${path} HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\n${h.trim()}\nConnection: close\n\n`,
    () => `GET ${path} HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n ${h}\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}X-Fold: a\r\n b\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    () => `GET ${path} HTTP/1.1\r\n${h}Content-Length: -1\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Transfer-Encoding: gzip\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
    () => `GET ${path} HTTP/1.0\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`,
    () => `GET http://evil.example${path} HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    () => `GET http://[::1${path} HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    () => `OPTIONS * HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    () => `CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Expect: 100-continue\r\nConnection: close\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Expect: the-unexpected\r\nConnection: close\r\n\r\n`,
    () => Buffer.from([0, 0, 0, 0, 13, 10, 13, 10]),
    () => Buffer.from(Array.from({ length: 1 + p.int(200) }, () => p.int(256)).concat([13, 10, 13, 10])),
    () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 13, 10, 13, 10]),
    () => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    () => `GET ${path}\x00 HTTP/1.1\r\n${h}\r\n`,
    () => `GET ${path}\x7f HTTP/1.1\r\n${h}\r\n`,
    () => `GET /v2/é/manifests/latest HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}X-\x00: y\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}: empty-name\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}X: ${"a\r\n".repeat(3)}\r\n`,
    () => `GET /v2/${"a".repeat(20_000)} HTTP/1.1\r\n${h}\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}${"X: y\r\n".repeat(2500)}Connection: close\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Host: evil.example\r\nConnection: close\r\n\r\n`,
    () => `GET ${path} HTTP/1.1\r\n${h}Connection: keep-alive\r\n\r\nGET /v2/ HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
  ];
  const t = p.one(templates)();
  return typeof t === "string" ? Buffer.from(t, "utf8") : t;
}

const KINDS = ["name", "name", "name", "name", "reference", "reference", "blob", "blob", "method", "header", "header", "path", "path", "raw"];

/** `count` requests from `seed`; each is one request on a connection of its own. */
export function generateRequests(seed: number, count: number, ctx: FuzzContext): FuzzRequest[] {
  const p = new Pick(prng(seed));
  const out: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    const kind = p.one(KINDS);
    if (kind === "raw") {
      const bytes = raw(p, routePath(p, ctx, p.one(["name", "reference", "blob"])));
      out.push({ kind, method: bytes.subarray(0, 5).toString("latin1").startsWith("HEAD ") ? "HEAD" : "GET", bytes });
      continue;
    }
    const method = kind === "method" ? p.one(METHODS) : p.one(["GET", "GET", "GET", "HEAD", "HEAD"]);
    const target = kind === "path" ? oddPath(p, ctx) : routePath(p, ctx, kind === "method" || kind === "header" ? p.one(["reference", "blob"]) : kind);
    const host = kind === "header" && p.chance(0.3) ? p.one(HOSTS) : "127.0.0.1";
    const body = ["PUT", "POST", "PATCH"].includes(method) && p.chance(0.7) ? '{"schemaVersion":2}' : "";
    out.push({ kind, method, bytes: serialise(method, target, host, headerLines(p, kind), body) });
  }
  return out;
}
