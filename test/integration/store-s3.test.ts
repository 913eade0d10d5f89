import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobKey, layerRecordKey } from "../../common/storage/layout.ts";
import { s3Presigner, staticCredentials } from "../../common/storage/s3.ts";
import { createStoreFromEnv } from "../../builder/store/index.ts";
import { S3BlobStore, type S3StoreOptions } from "../../builder/store/s3.ts";
import { StorageError } from "../../common/storage/errors.ts";
import { S3BlobReader } from "../../edge/storage/s3.ts";
import { blobReaderContract } from "../edge/blob-reader-contract.ts";
import { startSwift, type SwiftS3 } from "../support/swift.ts";
import { describeBlobStoreContract, digestOf, readAll } from "./store-contract.ts";

let swift: SwiftS3;
let admin: S3Client;
let buckets = 0;

beforeAll(async () => {
  swift = await startSwift();
  console.log(`Swift ready in ${swift.startMs} ms`);
  admin = new S3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    forcePathStyle: true,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  });
});
afterAll(async () => {
  admin?.destroy();
  await swift?.stop();
});

/** A fresh bucket per test, so a listing of the whole bucket sees only this test's writes. */
async function newBucket(): Promise<string> {
  const bucket = `store-${process.pid}-${++buckets}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function listBucket(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of res.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = res.NextContinuationToken;
  } while (token);
  return keys;
}

function storeOptions(bucket: string, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: swift.endpoint,
    region: swift.region,
    bucket,
    prefix: "nixport/cache",
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    ...extra,
  };
}

describeBlobStoreContract("s3 (Swift)", async () => {
  const bucket = await newBucket();
  const scratch = await mkdtemp(join(tmpdir(), "nixport-s3-store-"));
  const store = new S3BlobStore(storeOptions(bucket));
  // Port 1 on loopback: connection refused, at once.
  const unreachable = new S3BlobStore(storeOptions(bucket, { endpoint: "http://127.0.0.1:1", retry: { attempts: 1 } }));
  return {
    store,
    unreachable,
    listAll: () => listBucket(bucket),
    keyPrefix: "nixport/cache/",
    scratch,
    cleanup: async () => {
      store.destroy();
      unreachable.destroy();
      await rm(scratch, { recursive: true, force: true });
    },
  };
});

// The edge's S3 reader, signing its reads as the Worker does, against what lands in the bucket.
blobReaderContract(
  "S3 (Swift)",
  async (prefix) => {
    const bucket = await newBucket();
    const credentials = staticCredentials({ accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey });
    const reader = new S3BlobReader({ location: { endpoint: swift.endpoint, bucket, region: swift.region }, prefix, credentials });
    const putObject = async (key: string, bytes: Uint8Array) => void (await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes })));
    return { reader, put: (d, b) => putObject(prefix + blobKey(d), b), putObject };
  },
  { prefixes: true },
);

describe("the edge's S3 reader when storage fails", () => {
  const reader = (endpoint: string, secretAccessKey: string) =>
    new S3BlobReader({ location: { endpoint, bucket: swift.bucket, region: swift.region }, credentials: staticCredentials({ accessKeyId: swift.accessKeyId, secretAccessKey }) });
  const digest = `sha256:${"ab".repeat(32)}`;

  it("fails with StorageError when the endpoint does not answer, or refuses the signature", async () => {
    await expect(reader("http://127.0.0.1:1", swift.secretAccessKey).stat(digest)).rejects.toBeInstanceOf(StorageError);
    await expect(reader(swift.endpoint, "wrong").stat(digest)).rejects.toThrow(StorageError);
    await expect(reader(swift.endpoint, "wrong").get(digest)).rejects.toThrow(/S3 GET blobs\/sha256\/[a-f0-9]{64}: 403/);
  });
});

/** The house's presigner (common/storage/s3.ts) against what S3BlobStore wrote, under its prefix. */
describe("presigned GET of what the store wrote", () => {
  const bytes = randomBytes(5000);
  const digest = digestOf(bytes);
  let bucket: string;
  beforeAll(async () => {
    bucket = await newBucket();
    const store = new S3BlobStore(storeOptions(bucket));
    await store.putBlobBytes(digest, bytes, "application/vnd.oci.image.layer.v1.tar+gzip");
    store.destroy();
  });
  /** Signed at `at` (ms), valid for `expires` seconds (a one-second window plus the rest as margin). */
  const presign = (o: { secret?: string; at?: () => number } = {}, expires = 300) =>
    s3Presigner({
      location: { endpoint: swift.endpoint, bucket, region: swift.region },
      prefix: "nixport/cache/",
      credentials: staticCredentials({ accessKeyId: swift.accessKeyId, secretAccessKey: o.secret ?? swift.secretAccessKey }),
      windowSeconds: 1,
      marginSeconds: expires - 1,
      now: o.at ?? Date.now,
    })(blobKey(digest));

  it("is fetchable by plain fetch", async () => {
    const res = await fetch(await presign());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
  });

  it("serves a Range with 206", async () => {
    const res = await fetch(await presign(), { headers: { Range: "bytes=100-199" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes.subarray(100, 200));
  });

  it("is refused when signed with a wrong secret", async () => {
    const url = await presign({ secret: "wrong" });
    const res = await fetch(url);
    await res.arrayBuffer();
    expect(res.status).toBe(403);
  });

  it("is refused once expired, and accepted within its lifetime", async () => {
    const hourAgo = () => Date.now() - 3600_000;
    const expired = await fetch(await presign({ at: hourAgo }, 60));
    await expired.arrayBuffer();
    expect(expired.status).toBe(403);
    const stillValid = await fetch(await presign({ at: hourAgo }, 7200));
    await stillValid.arrayBuffer();
    expect(stillValid.status).toBe(200);
  });

  it("is refused for another object than the one signed", async () => {
    const url = new URL(await presign());
    url.pathname = url.pathname.replace(/[a-f0-9]{64}$/, "0".repeat(64));
    const res = await fetch(url);
    await res.arrayBuffer();
    expect(res.status).toBe(403);
  });
});

/** Fails the first `n` sends of the named command, after signing, as a dropped request would. */
function failFirst(store: S3BlobStore, command: string, n: number): { attempts: number } {
  const seen = { attempts: 0 };
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && ++seen.attempts <= n) throw new Error(`injected fault #${seen.attempts}`);
      return next(args);
    },
    { step: "finalizeRequest", name: `fail-${command}` },
  );
  return seen;
}

describe("S3BlobStore retries", () => {
  it("retries a failed upload and succeeds", async () => {
    const bucket = await newBucket();
    const store = new S3BlobStore(storeOptions(bucket));
    const faults = failFirst(store, "PutObjectCommand", 2);
    const bytes = randomBytes(1000);
    await store.putBlobBytes(digestOf(bytes), bytes, "t");
    expect(faults.attempts).toBe(3);
    expect(await readAll(await store.readBlob(digestOf(bytes)))).toEqual(bytes);
    store.destroy();
  });

  it("gives up after the bounded attempts with an error naming the key", async () => {
    const bucket = await newBucket();
    const store = new S3BlobStore(storeOptions(bucket));
    const faults = failFirst(store, "PutObjectCommand", Infinity);
    const bytes = randomBytes(1000);
    const digest = digestOf(bytes);
    await expect(store.putBlobBytes(digest, bytes, "t")).rejects.toThrow(
      `upload of nixport/cache/blobs/sha256/${digest.slice(7)} failed after 3 attempts: Error: injected fault #3`,
    );
    expect(faults.attempts).toBe(3);
    expect(await store.statBlob(digest)).toBeNull();
    store.destroy();
  });

  it("retries across dropped connections", async () => {
    const bucket = await newBucket();
    const proxy = await droppingProxy(new URL(swift.endpoint).port, 2);
    const store = new S3BlobStore(storeOptions(bucket, { endpoint: `http://127.0.0.1:${proxy.port}` }));
    const bytes = randomBytes(2000);
    await store.putRecord(layerRecordKey("d".repeat(20)), { ok: true });
    expect(proxy.dropped).toBe(2);
    expect(await store.getRecord(layerRecordKey("d".repeat(20)))).toEqual({ ok: true });
    await store.putBlobBytes(digestOf(bytes), bytes, "t");
    store.destroy();
    proxy.server.close();
  });

  it("does not retry a refused signature, and names the key", async () => {
    const bucket = await newBucket();
    const store = new S3BlobStore(storeOptions(bucket, { credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: "wrong" } }));
    const key = layerRecordKey("e".repeat(20));
    await expect(store.putRecord(key, {})).rejects.toThrow(`upload of nixport/cache/${key} failed after 1 attempt`);
    store.destroy();
  });

  it("aborts a failed multipart upload: no object, no parts left behind", async () => {
    const bucket = await newBucket();
    const store = new S3BlobStore(storeOptions(bucket));
    const faults = failFirst(store, "UploadPartCommand", Infinity);
    const bytes = randomBytes(12 * 1024 * 1024);
    const dir = await mkdtemp(join(tmpdir(), "nixport-s3-"));
    const file = join(dir, "big");
    await writeFile(file, bytes);
    await expect(store.putBlobFile(digestOf(bytes), file, "t")).rejects.toThrow(/upload of nixport\/cache\/blobs\/sha256\/[a-f0-9]{64} failed after 3 attempts/);
    expect(faults.attempts).toBeGreaterThanOrEqual(3);
    expect(await store.statBlob(digestOf(bytes))).toBeNull();
    const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await listBucket(bucket)).toEqual([]);
    store.destroy();
    await rm(dir, { recursive: true, force: true });
  });
});

describe("createStoreFromEnv", () => {
  it("builds an S3 store from NIXPORT_S3_* and AWS_* variables", async () => {
    const bucket = await newBucket();
    const store = createStoreFromEnv({
      NIXPORT_S3_ENDPOINT: swift.endpoint,
      NIXPORT_S3_BUCKET: bucket,
      NIXPORT_S3_PREFIX: "env",
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
    });
    expect(store).toBeInstanceOf(S3BlobStore);
    await store.putRecord(layerRecordKey("f".repeat(20)), { from: "env" });
    expect(await listBucket(bucket)).toEqual([`env/${layerRecordKey("f".repeat(20))}`]);
    (store as S3BlobStore).destroy();
  });
});

/** A TCP proxy to `port` that drops the first `n` connections as soon as they open. */
async function droppingProxy(port: string, n: number): Promise<{ server: Server; port: number; dropped: number }> {
  const state = { server: undefined as unknown as Server, port: 0, dropped: 0 };
  state.server = createServer((client) => {
    if (state.dropped < n) {
      state.dropped++;
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(port), "127.0.0.1");
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}
