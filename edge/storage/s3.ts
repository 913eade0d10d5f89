/**
 * Blob reads and presigned redirects through the S3 API (AWS S3, R2's S3 endpoint, Swift,
 * MinIO…), with aws4fetch: fetch-based, so it runs in workerd and Node alike. Addressing and
 * presigning are the house's one copy (common/storage/s3.ts); credentials are asked of the
 * provider at each signing, so refreshed role credentials are picked up. A failed request
 * (no answer, or any status but 2xx and 404) is a StorageError.
 */
import { AwsClient } from "aws4fetch";
import { StorageError } from "../../common/storage/errors.ts";
import { blobKey } from "../../common/storage/layout.ts";
import { objectURL, s3Presigner, type PresignerOptions } from "../../common/storage/s3.ts";
import type { BlobBody, BlobInfo, BlobReader, BlobRedirect, ByteRange } from "./types.ts";

/** The bucket, the layout's prefix in it, credentials, and the presigned URLs' window. */
export type S3ReaderOptions = PresignerOptions;

/** Blob GET redirects to presigned URLs of the blob's key. */
export function blobPresigner(o: S3ReaderOptions): (digest: string) => Promise<BlobRedirect> {
  const sign = s3Presigner(o);
  return async (digest) => ({ status: 307, location: await sign(blobKey(digest)) });
}

/** Reads blobs with signed requests; redirects with presigned URLs. */
export class S3BlobReader implements BlobReader {
  readonly blobURL: (digest: string) => Promise<BlobRedirect>;

  constructor(private readonly o: S3ReaderOptions) {
    this.blobURL = blobPresigner(o);
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    const res = await this.fetch(digest, { method: "HEAD" });
    if (res.status === 404) return null;
    if (!res.ok) throw new StorageError(`S3 HEAD ${blobKey(digest)}: ${res.status}`);
    return { digest, size: Number(res.headers.get("content-length") ?? "0") };
  }

  async get(digest: string, range?: ByteRange): Promise<BlobBody | null> {
    const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
    const res = await this.fetch(digest, { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new StorageError(`S3 GET ${blobKey(digest)}: ${res.status}`);
    }
    const total = range ? Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1] ?? NaN) : Number(res.headers.get("content-length"));
    if (!Number.isFinite(total)) throw new StorageError(`S3 GET ${blobKey(digest)}: no size in the response`);
    return range ? { digest, size: total, stream: res.body, range } : { digest, size: total, stream: res.body };
  }

  async readRecord(key: string): Promise<Uint8Array | null> {
    const res = await this.fetchKey(key, {});
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new StorageError(`S3 GET ${key}: ${res.status}`);
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /** One signed request for the blob's object (the digest is checked before anything is sent). */
  private fetch(digest: string, init: RequestInit): Promise<Response> {
    return this.fetchKey(blobKey(digest), init);
  }

  /** One signed request for a key of the layout, under the prefix. */
  private async fetchKey(key: string, init: RequestInit): Promise<Response> {
    const url = objectURL(this.o.location, (this.o.prefix ?? "") + key);
    const client = new AwsClient({ ...(await this.o.credentials()), service: "s3", region: this.o.location.region, retries: 0 });
    try {
      return await client.fetch(url, init);
    } catch (err) {
      throw new StorageError(`S3 ${init.method ?? "GET"} ${key}: ${(err as Error).message}`, { cause: err });
    }
  }
}
