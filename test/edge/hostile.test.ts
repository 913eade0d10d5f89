/**
 * Hostile input: every malformed request gets a valid response or a well-formed OCI error,
 * never a 5xx, and the builder is never asked about an invalid name. A fixed list of known
 * tricks, then generated requests (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeEdge, ociError, type Edge } from "./harness.ts";

// The grammar, restated independently of edge/names.ts, to judge what reached the builder.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

async function check(edge: Edge, path: string, init: RequestInit = {}): Promise<Response> {
  let req: Request;
  try {
    req = new Request(`http://registry.test${path}`, init);
  } catch {
    return new Response(null, { status: 200 }); // not even a request: nothing to serve
  }
  const res = await edge.app.fetch(req);
  const where = `${init.method ?? "GET"} ${path.slice(0, 200)}`;
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get("docker-distribution-api-version"), where).toBe("registry/2.0");
  if (res.status >= 400 && req.method !== "HEAD") await ociError(res);
  else await res.arrayBuffer();
  for (const call of edge.builder.calls) {
    expect(call.packages.every((p) => COMPONENT.test(p)), JSON.stringify(call)).toBe(true);
    expect(TAG.test(call.tag), JSON.stringify(call)).toBe(true);
  }
  expect(edge.unexpected, where).toEqual([]);
  return res;
}

const NAMES_REFUSED = [
  "/v2/%2e%2e/%2e%2e/etc/manifests/latest",
  "/v2/git%2Fhtop/manifests/latest",
  "/v2/git%00/manifests/latest",
  "/v2/g%C3%AFt/manifests/latest",
  "/v2/gït/manifests/latest",
  "/v2/ｇｉｔ/manifests/latest",
  "/v2/git\u202e/manifests/latest",
  "/v2/🐚/manifests/latest",
  '/v2/${builtins.readFile "/etc/passwd"}/manifests/latest',
  "/v2/(import <nixpkgs> {}).hello/manifests/latest",
  "/v2/let x = 1; in x/manifests/latest",
  "/v2/git;rm -rf ~/manifests/latest",
  '/v2/a."b"/manifests/latest',
  "/v2/git'/manifests/latest",
  "/v2/.git/manifests/latest",
  "/v2/git./manifests/latest",
  "/v2/git___x/manifests/latest",
  "/v2/-git/manifests/latest",
  `/v2/${"a/".repeat(200)}a/manifests/latest`,
  `/v2/${"x".repeat(100_000)}/manifests/latest`,
  "/v2//manifests/latest",
  "/v2/git//manifests/latest",
  "/v2/GIT/blobs/sha256:00",
];

const OTHER_TRICKS: [string, RequestInit?][] = [
  ["/v2/../../etc/passwd/manifests/latest"],
  ["/v2/git/manifests/..%2F..%2Fetc%2Fpasswd"],
  ["/v2/git/manifests/%2e%2e"],
  ["/v2/git/manifests/%ZZ"],
  ["/v2/git/manifests/latest%00"],
  [`/v2/git/manifests/${"t".repeat(10_000)}`],
  ["/v2/git/manifests/${builtins.abort \"x\"}"],
  ["/v2/git/manifests/sha256:" + "0".repeat(63) + "G"],
  ["/v2/git/manifests/sha256:" + "0".repeat(65)],
  ["/v2/git/manifests/md5:" + "0".repeat(32)],
  ["/v2/git/manifests/:"],
  ["/v2/git/blobs/sha256:..%2F..%2Fetc"],
  ["/v2/git/blobs/..%2F..%2F"],
  ["/v2/git/blobs/sha256%3A" + "0".repeat(64)],
  ["/v2/git/tags/list?n=-1&last=%00"],
  ["/v2/git/tags/list?n=99999999999999999999"],
  ["/v2/?%%%&a=%ZZ"],
  ["//v2//"],
  ["/v2/_catalog?n=10"],
  ["/v2/git/manifests/latest", { method: "PROPFIND" }],
  ["/v2/git/manifests/latest", { method: "PURGE" }],
  ["/v2/git/manifests/latest", { method: "FOO" }],
  ["/v2/git/manifests/latest", { headers: { Accept: "x".repeat(60_000) } }],
  ["/v2/git/manifests/latest", { headers: { Accept: "application/vnd.oci.image.manifest.v1+json;q=abc" } }],
  ["/v2/git/manifests/latest", { headers: { Accept: "\t,;=;~" } }],
  ["/v2/git/manifests/latest", { headers: { Host: "<x>&\"'" } }],
  ["/", { headers: { Host: "<img src=x onerror=alert(1)>" } }],
];

const RANGES = ["bytes=99999999999999999999-", "bytes=-0", "bytes=0-0", "bytes=--1", "bytes=1-2-3", "bytes=~!@", "bytes=0-99999999999", "octets=0-1", "bytes=,", "bytes=-99999999"];

describe("hostile requests", () => {
  it("invalid names are refused with NAME_INVALID and never reach the builder", async () => {
    const edge = makeEdge();
    for (const path of NAMES_REFUSED) {
      const res = await check(edge, path);
      if (res.status !== 400) expect([path, res.status]).toEqual([path, 404]); // dot segments may leave no route
    }
    expect(edge.builder.calls).toEqual([]);
  });

  it("traversal, encodings, odd methods and headers get valid answers", async () => {
    const edge = makeEdge();
    for (const [path, init] of OTHER_TRICKS) await check(edge, path, init);
    for (const [path, init] of OTHER_TRICKS) await check(edge, path, { ...init, method: "HEAD" });
  });

  it("odd Range headers never break blob streaming", async () => {
    const edge = makeEdge();
    const manifest = (await (await edge.fetch("/v2/git/manifests/latest")).json()) as { layers: { digest: string }[] };
    const blob = `/v2/git/blobs/${manifest.layers[0]!.digest}`;
    for (const range of RANGES) {
      const res = await check(edge, blob, { headers: { Range: range } });
      expect([200, 206, 416], range).toContain(res.status);
    }
  });

  it("generated requests: never a 5xx, errors always well-formed, no invalid name built", async () => {
    const edge = makeEdge();
    const piece = fc.oneof(
      fc.constantFrom("git", "htop", "shell", "arm64", "amd64", "manifests", "blobs", "tags", "list", "..", ".", "", "%2e", "%2F", "%00", "latest", "sha256:" + "a".repeat(64), "${x}", "<a>", "ü", "A"),
      fc.string({ maxLength: 12 }),
      fc.stringMatching(/^[a-z0-9._-]{1,10}$/),
    );
    const path = fc.array(piece, { minLength: 0, maxLength: 8 }).map((parts) => `/v2/${parts.join("/")}`);
    const method = fc.constantFrom("GET", "HEAD", "GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS");
    const accept = fc.option(fc.string({ maxLength: 40 }), { nil: undefined });
    const range = fc.option(fc.constantFrom(...RANGES), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(path, method, accept, range, async (p, m, a, r) => {
        const headers: Record<string, string> = {};
        // Header values stay printable ASCII: workerd warns about (and re-encodes) anything else.
        if (a !== undefined) headers.Accept = a.replace(/[^\x20-\x7e]/g, "");
        if (r !== undefined) headers.Range = r;
        let init: RequestInit = { method: m };
        try {
          init = { method: m, headers };
          new Headers(headers);
        } catch {
          init = { method: m };
        }
        await check(edge, p, init);
      }),
      { numRuns: 400 },
    );
  });
});
