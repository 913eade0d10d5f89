/**
 * Redirects to a public or custom-domain bucket URL (e.g. an R2 custom domain behind a CDN):
 * no signing, the same URL forever, so every cache in between can keep it. The base is the
 * bucket's root; the layout sits under the store's prefix inside it.
 */
import { blobKey } from "../../common/storage/layout.ts";
import type { BlobRedirect } from "./types.ts";

export function publicBlobURL(base: string, prefix = ""): (digest: string) => Promise<BlobRedirect> {
  const root = base.replace(/\/+$/, "");
  return async (digest) => ({ location: `${root}/${prefix}${blobKey(digest)}`, status: 307 });
}
