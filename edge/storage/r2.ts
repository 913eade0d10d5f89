/**
 * Blob reads through a Workers R2 binding. R2 bindings cannot presign, so this driver has no
 * blobURL of its own: pair it with publicBlobURL or the S3 presigner (R2 speaks S3) to redirect.
 */
import { StorageError } from "../../common/storage/errors.ts";
import { blobKey } from "../../common/storage/layout.ts";
import type { BlobBody, BlobInfo, BlobReader, ByteRange } from "./types.ts";

/** The part of the R2 binding this driver uses (structural, so the edge needs no Workers types). */
export interface R2BucketLike {
  head(key: string): Promise<{ size: number } | null>;
  get(
    key: string,
    options?: { range?: { offset: number; length: number } },
  ): Promise<{ size: number; body: ReadableStream<Uint8Array> } | null>;
}

export class R2BlobReader implements BlobReader {
  /** `prefix`: the layout's folder in the bucket (layoutPrefix form), as the builder writes it. */
  constructor(
    private readonly bucket: R2BucketLike,
    private readonly prefix = "",
  ) {}

  async stat(digest: string): Promise<BlobInfo | null> {
    const key = this.prefix + blobKey(digest);
    const head = await r2Call(`R2 head ${key}`, () => this.bucket.head(key));
    return head ? { digest, size: head.size } : null;
  }

  async get(digest: string, range?: ByteRange): Promise<BlobBody | null> {
    const options = range ? { range: { offset: range.start, length: range.end - range.start + 1 } } : undefined;
    const key = this.prefix + blobKey(digest);
    const obj = await r2Call(`R2 get ${key}`, () => this.bucket.get(key, options));
    if (!obj) return null;
    return range ? { digest, size: obj.size, stream: obj.body, range } : { digest, size: obj.size, stream: obj.body };
  }

  async readRecord(key: string): Promise<Uint8Array | null> {
    const full = this.prefix + key;
    const obj = await r2Call(`R2 get ${full}`, () => this.bucket.get(full));
    return obj ? new Uint8Array(await new Response(obj.body).arrayBuffer()) : null;
  }
}

/** A binding call whose failure (R2 unavailable, a network error) is a StorageError. */
async function r2Call<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StorageError(`${what}: ${(err as Error).message}`, { cause: err });
  }
}
