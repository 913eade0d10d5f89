/**
 * GET|HEAD /v2/<name>/blobs/<digest>.
 * HEAD: answered here from storage metadata, never redirected (a GET-signed URL would not
 * answer a HEAD). GET: a redirect when the storage driver can give one (for a blob storage
 * holds), else the edge streams the blob itself, honouring Range. Presence is remembered for
 * a while (storage/known.ts), so a pull's HEAD-then-GET costs one storage lookup.
 */
import type { Context } from "hono";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errors } from "../errors.ts";
import { parseDigest } from "../../common/names.ts";
import { parseRange } from "../range.ts";
import type { BlobBody } from "../storage/types.ts";
import { type RouteContext, requireName } from "./context.ts";
import { IMMUTABLE } from "./manifests.ts";
import { decodeSegment } from "./table.ts";

export async function blobHandler(c: Context, rc: RouteContext, name: string, rawDigest: string): Promise<Response> {
  requireName(name);
  const parsed = parseDigest(decodeSegment(rawDigest));
  if (!parsed.ok) throw errors.digestInvalid(parsed.reason);
  if (parsed.value.kind !== "digest") throw errors.blobUnknown(parsed.value.digest);
  return blobAnswer(c, rc, parsed.value.digest);
}

/** The answer for a blob known by its digest: HEAD from metadata, GET a redirect or the bytes. */
export async function blobAnswer(c: Context, rc: RouteContext, digest: string): Promise<Response> {
  if (c.req.method === "HEAD") {
    const info = await rc.blobs.stat(digest);
    if (!info) throw errors.blobUnknown(digest);
    return new Response(null, { status: 200, headers: blobHeaders(digest, info.size) });
  }
  if (rc.blobs.blobURL) {
    // Only a blob that exists is redirected: an unknown digest is the registry's 404, not the bucket's.
    if (!(await rc.blobs.stat(digest))) throw errors.blobUnknown(digest);
    const redirect = await rc.blobs.blobURL(digest);
    return new Response(null, {
      status: redirect.status,
      headers: {
        [API_VERSION_HEADER]: API_VERSION,
        Location: redirect.location,
        "Docker-Content-Digest": digest,
        // The URL is good for the signing window only; let nothing keep it longer.
        "Cache-Control": "private, max-age=60",
        "Content-Length": "0",
      },
    });
  }
  return stream(c, rc, digest);
}

async function stream(c: Context, rc: RouteContext, digest: string): Promise<Response> {
  const rangeHeader = c.req.header("range");
  if (rangeHeader !== undefined) {
    const info = await rc.blobs.stat(digest);
    if (!info) throw errors.blobUnknown(digest);
    const range = parseRange(rangeHeader, info.size);
    if (range === "unsatisfiable") throw errors.rangeNotSatisfiable(info.size);
    if (range) {
      const body = await rc.blobs.get(digest, range);
      if (!body) throw errors.blobUnknown(digest);
      return partial(digest, body, range.start, range.end);
    }
  }
  const body = await rc.blobs.get(digest);
  if (!body) throw errors.blobUnknown(digest);
  return new Response(body.stream, { status: 200, headers: blobHeaders(digest, body.size) });
}

function partial(digest: string, body: BlobBody, start: number, end: number): Response {
  const headers = {
    ...blobHeaders(digest, end - start + 1),
    "Content-Range": `bytes ${start}-${end}/${body.size}`,
  };
  return new Response(body.stream, { status: 206, headers });
}

function blobHeaders(digest: string, length: number): Record<string, string> {
  return {
    [API_VERSION_HEADER]: API_VERSION,
    "Content-Type": "application/octet-stream",
    "Content-Length": String(length),
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
    "Cache-Control": IMMUTABLE,
  };
}
