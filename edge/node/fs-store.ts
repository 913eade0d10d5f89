/**
 * The filesystem store for the all-in-one server: blobs at <root>/<prefix>blobs/sha256/<hex>,
 * the layout the builder's filesystem store writes (common/storage/layout.ts), and the binary
 * cache's records beside them. No signer here, so blob GETs stream through the edge, with Range.
 */
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { diskFailure } from "../../common/storage/errors.ts";
import { blobKey, layoutPrefix } from "../../common/storage/layout.ts";
import type { BlobBody, BlobInfo, BlobReader, ByteRange } from "../storage/types.ts";

function isMissing(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export class FsBlobReader implements BlobReader {
  private readonly prefix: string;

  constructor(
    readonly root: string,
    prefix = "",
  ) {
    this.prefix = layoutPrefix(prefix);
  }

  private path(digest: string): string {
    return join(this.root, this.prefix + blobKey(digest));
  }

  async readRecord(key: string): Promise<Uint8Array | null> {
    try {
      return await readFile(join(this.root, this.prefix + key));
    } catch (err) {
      if (isMissing(err)) return null;
      throw diskFailure(err);
    }
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    try {
      // One stat, not open + fstat + close: blob HEADs are hot, and each call is a thread-pool hop.
      const st = await stat(this.path(digest));
      return st.isFile() ? { digest, size: st.size } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw diskFailure(err);
    }
  }

  async get(digest: string, range?: ByteRange): Promise<BlobBody | null> {
    let handle;
    try {
      handle = await open(this.path(digest), "r");
    } catch (err) {
      if (isMissing(err)) return null;
      throw diskFailure(err);
    }
    const st = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw diskFailure(err);
    });
    if (!st.isFile()) {
      await handle.close();
      return null;
    }
    // The stream owns the handle and closes it when done or cancelled.
    const nodeStream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    const stream = Readable.toWeb(nodeStream) as unknown as ReadableStream<Uint8Array>;
    return range ? { digest, size: st.size, stream, range } : { digest, size: st.size, stream };
  }
}
