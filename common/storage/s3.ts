/**
 * S3 addressing and presigning, one copy for the builder (writer) and the edge (reader, on
 * Workers and Node): where an object of the bucket lives, and a query-signed GET URL for it.
 * Signing is aws4fetch's SigV4 (fetch-based, no Node built-ins), so the Worker bundles it.
 */
import { AwsV4Signer } from "aws4fetch";

/** Where the bucket is and how its objects are addressed. */
export interface S3Location {
  /** e.g. https://s3.us-east-1.amazonaws.com, https://<account>.r2.cloudflarestorage.com, http://127.0.0.1:8080 */
  endpoint: string;
  bucket: string;
  region: string;
  /** Bucket in the path (endpoint/bucket/key) rather than in the host name; default true. */
  pathStyle?: boolean;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary (role, SSO, web identity) credentials. */
  sessionToken?: string;
}

/**
 * Where credentials come from at the moment of signing: the Worker's secrets, static AWS_*
 * variables, or (on Node) the AWS SDK's default chain, which refreshes role credentials.
 */
export type CredentialsProvider = () => Promise<S3Credentials>;

export function staticCredentials(credentials: S3Credentials): CredentialsProvider {
  return async () => credentials;
}

/** AWS's regional endpoint, for a bucket configured without one. */
export function awsEndpoint(region: string): string {
  return `https://s3.${region}.amazonaws.com`;
}

/**
 * The URL of an object key. Dotted bucket names go in the path even when virtual-hosted
 * addressing is asked for: `a.b.s3.amazonaws.com` fails the endpoint's TLS wildcard.
 */
export function objectURL(location: Pick<S3Location, "endpoint" | "bucket" | "pathStyle">, key: string): string {
  const endpoint = new URL(location.endpoint);
  const base = endpoint.pathname.replace(/\/+$/, "");
  const path = key.split("/").map(encodeURIComponent).join("/");
  if (location.pathStyle === false && !location.bucket.includes(".")) {
    return `${endpoint.protocol}//${location.bucket}.${endpoint.host}${base}/${path}`;
  }
  return `${endpoint.protocol}//${endpoint.host}${base}/${encodeURIComponent(location.bucket)}/${path}`;
}

/** SigV4's timestamp form, YYYYMMDD'T'HHMMSS'Z', of a time rounded down to the window. */
export function windowedAmzDate(nowMs: number, windowSeconds: number): string {
  const windowMs = windowSeconds * 1000;
  const rounded = Math.floor(nowMs / windowMs) * windowMs;
  return new Date(rounded).toISOString().replace(/[:-]|\.\d{3}/g, "");
}

export interface PresignParams extends S3Credentials {
  region: string;
  /** SigV4 timestamp (windowedAmzDate). */
  datetime: string;
  /** 1 s to 7 days, S3's limits for a presigned URL. */
  expiresSeconds: number;
}

/** A presigned GET URL for an object URL; any HTTP client can fetch it, with Range if it likes. */
export async function presignGet(objectURL: string, p: PresignParams): Promise<string> {
  if (!Number.isSafeInteger(p.expiresSeconds) || p.expiresSeconds < 1 || p.expiresSeconds > 604_800) {
    throw new RangeError(`presign expiry must be 1..604800 seconds, got ${p.expiresSeconds}`);
  }
  const url = new URL(objectURL);
  url.searchParams.set("X-Amz-Expires", String(p.expiresSeconds));
  const signer = new AwsV4Signer({
    method: "GET",
    url: url.toString(),
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    ...(p.sessionToken ? { sessionToken: p.sessionToken } : {}),
    service: "s3",
    region: p.region,
    datetime: p.datetime,
    signQuery: true,
  });
  const signed = await signer.sign();
  return signed.url.toString();
}

export interface PresignerOptions {
  location: S3Location;
  /** The layout's prefix in the bucket (layoutPrefix form). */
  prefix?: string;
  credentials: CredentialsProvider;
  /** Signing-time window in seconds (default 300). */
  windowSeconds?: number;
  /** Extra validity after the window ends (default 600). */
  marginSeconds?: number;
  /** Clock, for tests (ms since the epoch). */
  now?: () => number;
}

/**
 * Presigned GET URLs for layout keys, computed locally, no round trip. The signing time is
 * rounded down to a window, so every request within one window gets the very same URL and a
 * CDN in front of the bucket can cache the blob under it. A URL signed at the window's start
 * must still be valid at its end plus the time a client takes to follow it: expiry = window +
 * margin.
 */
export function s3Presigner(o: PresignerOptions): (layoutKey: string) => Promise<string> {
  const windowSeconds = o.windowSeconds ?? 300;
  const expiresSeconds = windowSeconds + (o.marginSeconds ?? 600);
  const now = o.now ?? Date.now;
  const prefix = o.prefix ?? "";
  return async (layoutKey) => {
    const url = objectURL(o.location, prefix + layoutKey);
    const datetime = windowedAmzDate(now(), windowSeconds);
    return presignGet(url, { ...(await o.credentials()), region: o.location.region, datetime, expiresSeconds });
  };
}
