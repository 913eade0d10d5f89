/**
 * The Nix binary cache: /nix-cache-info, /<hash>.narinfo, /nar/<sha256>.nar.zst and
 * /nix-cache-public-key. Only what the builder wrote for the images it built is served: a
 * narinfo is a record it stored, a NAR a blob whose name a narinfo gives. Names are checked
 * before storage is asked (400), and an unknown one is a 404.
 */
import type { Context } from "hono";
import { CACHE_PUBLIC_KEY_KEY, narInfoRecordKey } from "../../common/storage/layout.ts";
import { isStoreHash, narDigestOf, NIX_CACHE_INFO, renderNarInfo, type CachePublicKeyRecord, type NarInfoRecord } from "../../common/nix-cache/narinfo.ts";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errors } from "../errors.ts";
import { blobAnswer } from "./blobs.ts";
import type { RouteContext } from "./context.ts";
import { IMMUTABLE } from "./manifests.ts";

export function cacheInfoHandler(): Response {
  return text(NIX_CACHE_INFO, "text/x-nix-cache-info", "public, max-age=86400");
}

export async function publicKeyHandler(rc: RouteContext): Promise<Response> {
  const key = await cachePublicKey(rc);
  if (!key) throw errors.cacheUnknown("/nix-cache-public-key");
  return text(key + "\n", "text/plain; charset=utf-8", "public, max-age=300");
}

export async function narInfoHandler(rc: RouteContext, hash: string): Promise<Response> {
  if (!isStoreHash(hash)) throw errors.cachePathInvalid(`/${hash}.narinfo`);
  const record = await rc.records?.getRecord<NarInfoRecord>(narInfoRecordKey(hash));
  if (!record) throw errors.cacheUnknown(`/${hash}.narinfo`);
  // A store path's narinfo never changes once written (same path, same NAR).
  return text(renderNarInfo(record), "text/x-nix-narinfo", IMMUTABLE);
}

export async function narHandler(c: Context, rc: RouteContext, file: string): Promise<Response> {
  const digest = narDigestOf(file);
  if (!digest) throw errors.cachePathInvalid(`/${file}`);
  // Without a cache there are no NARs: a layer's digest under nar/ is no NAR either way.
  if (!rc.records) throw errors.cacheUnknown(`/${file}`);
  return blobAnswer(c, rc, digest);
}

/** The public key the builder stored, `name:base64`; null when no builder has written a cache. */
export async function cachePublicKey(rc: RouteContext): Promise<string | null> {
  const record = await rc.records?.getRecord<CachePublicKeyRecord>(CACHE_PUBLIC_KEY_KEY);
  return typeof record?.publicKey === "string" ? record.publicKey : null;
}

function text(body: string, type: string, cacheControl: string): Response {
  return new Response(body, { status: 200, headers: { [API_VERSION_HEADER]: API_VERSION, "Content-Type": type, "Cache-Control": cacheControl } });
}
