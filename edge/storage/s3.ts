/**
 * Blob reads and presigned redirects through the S3 API (AWS S3, R2's S3 endpoint, Swift,
 * MinIO…), with aws4fetch: fetch-based, so it runs in workerd and Node alike.
 *
 * Presigned URLs are computed locally, no round trip. The signing time is rounded down to a
 * window, so every request within one window gets the very same URL and a CDN in front of
 * the bucket can cache the blob under it. A URL signed at the window's start must still be
 * valid at its end plus the time a client takes to follow it: expiry = window + margin.
 */
import { AwsClient, AwsV4Signer } from "aws4fetch";
import { blobKey } from "../../common/storage/layout.ts";
import type { BlobBody, BlobInfo, BlobReader, BlobRedirect, ByteRange } from "./types.ts";

export interface S3Config {
  /** e.g. https://s3.us-east-1.amazonaws.com, https://<account>.r2.cloudflarestorage.com, http://127.0.0.1:8080 */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (endpoint/bucket/key); false = virtual-hosted (bucket.endpoint/key). Default true. */
  pathStyle?: boolean;
  /** Signing-time window in seconds (default 300). */
  windowSeconds?: number;
  /** Extra validity after the window ends (default 600). */
  marginSeconds?: number;
  /** Clock, for tests (ms since the epoch). */
  now?: () => number;
}

/** SigV4's timestamp form, YYYYMMDD'T'HHMMSS'Z', of a time rounded down to the window. */
export function windowedAmzDate(nowMs: number, windowSeconds: number): string {
  const windowMs = windowSeconds * 1000;
  const rounded = Math.floor(nowMs / windowMs) * windowMs;
  return new Date(rounded).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

export interface PresignParams {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** SigV4 timestamp (windowedAmzDate). */
  datetime: string;
  expiresSeconds: number;
}

/** A presigned GET URL for an object URL. */
export async function presignGet(objectURL: string, p: PresignParams): Promise<string> {
  const url = new URL(objectURL);
  url.searchParams.set("X-Amz-Expires", String(p.expiresSeconds));
  const signer = new AwsV4Signer({
    method: "GET",
    url: url.toString(),
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    service: "s3",
    region: p.region,
    datetime: p.datetime,
    signQuery: true,
  });
  const signed = await signer.sign();
  return signed.url.toString();
}

/** The URL of an object key in the bucket. */
export function objectURL(cfg: Pick<S3Config, "endpoint" | "bucket" | "pathStyle">, key: string): string {
  const endpoint = new URL(cfg.endpoint);
  const base = endpoint.pathname.replace(/\/+$/, "");
  if (cfg.pathStyle === false) return `${endpoint.protocol}//${cfg.bucket}.${endpoint.host}${base}/${key}`;
  return `${endpoint.protocol}//${endpoint.host}${base}/${encodeURIComponent(cfg.bucket)}/${key}`;
}

export function s3Presigner(cfg: S3Config): (digest: string) => Promise<BlobRedirect> {
  const windowSeconds = cfg.windowSeconds ?? 300;
  const expiresSeconds = windowSeconds + (cfg.marginSeconds ?? 600);
  const now = cfg.now ?? Date.now;
  return async (digest) => ({
    status: 307,
    location: await presignGet(objectURL(cfg, blobKey(digest)), {
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      region: cfg.region,
      datetime: windowedAmzDate(now(), windowSeconds),
      expiresSeconds,
    }),
  });
}

/** Reads blobs with signed requests; redirects with presigned URLs. */
export class S3BlobReader implements BlobReader {
  private readonly client: AwsClient;
  readonly blobURL: (digest: string) => Promise<BlobRedirect>;

  constructor(private readonly cfg: S3Config) {
    this.client = new AwsClient({
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      service: "s3",
      region: cfg.region,
      retries: 0,
    });
    this.blobURL = s3Presigner(cfg);
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    const res = await this.client.fetch(objectURL(this.cfg, blobKey(digest)), { method: "HEAD" });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`S3 HEAD ${blobKey(digest)}: ${res.status}`);
    return { digest, size: Number(res.headers.get("content-length") ?? "0") };
  }

  async get(digest: string, range?: ByteRange): Promise<BlobBody | null> {
    const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
    const res = await this.client.fetch(objectURL(this.cfg, blobKey(digest)), { headers });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok || !res.body) throw new Error(`S3 GET ${blobKey(digest)}: ${res.status}`);
    const total = range ? Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1] ?? NaN) : Number(res.headers.get("content-length"));
    if (!Number.isFinite(total)) throw new Error(`S3 GET ${blobKey(digest)}: no size in the response`);
    return range ? { digest, size: total, stream: res.body, range } : { digest, size: total, stream: res.body };
  }
}
