/**
 * How the edge reads blobs (layers, configs, manifests) from object storage. A driver
 * implements stat and get; one that can hand clients a URL of their own (a presigned S3 URL,
 * a public bucket domain) also implements blobURL, and then blob GETs redirect there
 * instead of streaming through the edge.
 */

export interface BlobInfo {
  digest: string;
  size: number;
}

/** Inclusive byte range, already resolved against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobBody extends BlobInfo {
  stream: ReadableStream<Uint8Array>;
  /** The range the stream holds, when one was asked for. */
  range?: ByteRange;
}

/** A redirect is a result of the storage driver, not a header a handler writes. */
export interface BlobRedirect {
  location: string;
  status: 307;
}

export interface BlobReader {
  stat(digest: string): Promise<BlobInfo | null>;
  get(digest: string, range?: ByteRange): Promise<BlobBody | null>;
  blobURL?(digest: string): Promise<BlobRedirect>;
  /**
   * A small record's bytes (a key the layout builds, e.g. referrersRecordKey), or null when
   * absent. A reader without it has no records: every manifest then has no referrers.
   */
  readRecord?(key: string): Promise<Uint8Array | null>;
}

/** Adds (or replaces) a reader's redirect capability. */
export function withBlobURL(reader: BlobReader, blobURL: (digest: string) => Promise<BlobRedirect>): BlobReader {
  return {
    stat: (digest) => reader.stat(digest),
    get: (digest, range) => reader.get(digest, range),
    blobURL,
    ...(reader.readRecord ? { readRecord: reader.readRecord.bind(reader) } : {}),
  };
}

/** Reads a whole (small) blob, e.g. a manifest; null when missing or larger than maxBytes. */
export async function readSmallBlob(reader: BlobReader, digest: string, maxBytes: number): Promise<Uint8Array | null> {
  const body = await reader.get(digest);
  if (!body) return null;
  if (body.size > maxBytes) {
    await body.stream.cancel();
    return null;
  }
  const bytes = new Uint8Array(await new Response(body.stream).arrayBuffer());
  return bytes.byteLength <= maxBytes ? bytes : null;
}
