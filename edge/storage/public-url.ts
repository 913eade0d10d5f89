/**
 * Redirects to a public or custom-domain bucket URL (e.g. an R2 custom domain behind a CDN):
 * no signing, the same URL forever, so every cache in between can keep it.
 */
import { blobKey } from "../../common/storage/layout.ts";
import type { BlobRedirect } from "./types.ts";

export function publicBlobURL(base: string): (digest: string) => Promise<BlobRedirect> {
  const root = base.replace(/\/+$/, "");
  return async (digest) => ({ location: `${root}/${blobKey(digest)}`, status: 307 });
}
