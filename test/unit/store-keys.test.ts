// Store plumbing without I/O: key checks, retries, S3 prefixes and URLs, choice of store, and
// the one storage configuration (common/storage/config.ts) both sides are made from.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { storageConfigFromEnv, storageConfigFromWorker, type Env } from "../../common/storage/config.ts";
import { imageRecordKey, layerRecordKey } from "../../common/storage/layout.ts";
import { s3Presigner, staticCredentials } from "../../common/storage/s3.ts";
import { createStoreFromEnv } from "../../builder/store/index.ts";
import { FsBlobStore } from "../../builder/store/fs.ts";
import { blobKeyOf, checkRange, InvalidKeyError, layoutKeyOf, recordKeyOf } from "../../builder/store/keys.ts";
import { withRetry } from "../../builder/store/retry.ts";
import { S3BlobStore } from "../../builder/store/s3.ts";
import { BAD_DIGESTS, BAD_RECORD_KEYS } from "../integration/store-contract.ts";

const HEX = "0123456789abcdef".repeat(4);

describe("store keys", () => {
  it("accepts exactly the layout's keys", () => {
    expect(blobKeyOf(`sha256:${HEX}`)).toBe(`blobs/sha256/${HEX}`);
    expect(recordKeyOf(layerRecordKey("a".repeat(16)))).toBe(`layers/${"a".repeat(16)}.json`);
    expect(recordKeyOf(imageRecordKey("z9".repeat(20)))).toBe(`images/${"z9".repeat(20)}.json`);
    expect(layoutKeyOf(`blobs/sha256/${HEX}`)).toBe(`blobs/sha256/${HEX}`);
    expect(layoutKeyOf(layerRecordKey(HEX))).toBe(`layers/${HEX}.json`);
  });

  it.each(BAD_DIGESTS)("rejects digest %j", (digest) => {
    expect(() => blobKeyOf(digest)).toThrow(InvalidKeyError);
  });

  it.each(BAD_RECORD_KEYS)("rejects record key %j", (key) => {
    expect(() => recordKeyOf(key)).toThrow(InvalidKeyError);
  });

  it.each(["blobs/sha256/../../etc", `blobs/sha512/${HEX}`, `blobs/sha256/${HEX}/x`, ".tmp/abc", ""])(
    "rejects layout key %j",
    (key) => {
      expect(() => layoutKeyOf(key)).toThrow(InvalidKeyError);
    },
  );

  it("checks ranges", () => {
    expect(() => checkRange(undefined)).not.toThrow();
    expect(() => checkRange({ start: 0, end: 0 })).not.toThrow();
    for (const r of [{ start: 2, end: 1 }, { start: -1, end: 1 }, { start: 0, end: 1.5 }, { start: NaN, end: 1 }]) {
      expect(() => checkRange(r), JSON.stringify(r)).toThrow(RangeError);
    }
  });
});

describe("withRetry", () => {
  const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

  it("retries until success", async () => {
    let calls = 0;
    const result = await withRetry("op", fast, () => true, async () => {
      if (++calls < 3) throw new Error("flaky");
      return "done";
    });
    expect(result).toBe("done");
    expect(calls).toBe(3);
  });

  it("stops after the bounded attempts and names the operation", async () => {
    let calls = 0;
    const failing = withRetry("upload of blobs/sha256/x", fast, () => true, async () => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    await expect(failing).rejects.toThrow("upload of blobs/sha256/x failed after 3 attempts: Error: boom 3");
    expect(calls).toBe(3);
  });

  it("does not retry what will fail again", async () => {
    let calls = 0;
    const failing = withRetry("stat", fast, () => false, async () => {
      calls++;
      throw new Error("denied");
    });
    await expect(failing).rejects.toThrow("stat failed after 1 attempt: Error: denied");
    expect(calls).toBe(1);
  });
});

/** The presigned URL of a blob key under the configuration the environment gives. */
async function presignFromEnv(env: Env, key: string, now = Date.now(), expiresSeconds = 300): Promise<URL> {
  const config = storageConfigFromEnv(env);
  const credentials = staticCredentials(config.credentials!);
  const sign = s3Presigner({ location: config.s3!, prefix: config.prefix, credentials, windowSeconds: 1, marginSeconds: expiresSeconds - 1, now: () => now });
  return new URL(await sign(key));
}

describe("S3BlobStore without I/O", () => {
  const aws = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret" };

  it("normalizes the prefix and refuses ones that could climb out", () => {
    expect(new S3BlobStore({ region: "us-east-1", bucket: "b", prefix: "a/b" }).prefix).toBe("a/b/");
    expect(new S3BlobStore({ region: "us-east-1", bucket: "b", prefix: "a/b/" }).prefix).toBe("a/b/");
    expect(new S3BlobStore({ region: "us-east-1", bucket: "b" }).prefix).toBe("");
    for (const prefix of ["/a", "../x", "a/../b", "a//b", "a/./b", "a b", "a\0"]) {
      expect(() => new S3BlobStore({ region: "us-east-1", bucket: "b", prefix }), prefix).toThrow(InvalidKeyError);
    }
  });

  it("presigns a virtual-hosted AWS URL under the prefix", async () => {
    const url = await presignFromEnv({ NIXPORT_S3_REGION: "eu-west-1", NIXPORT_S3_BUCKET: "layers", NIXPORT_S3_PREFIX: "nix", ...aws }, `blobs/sha256/${HEX}`);
    expect(url.host).toBe("layers.s3.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe(`/nix/blobs/sha256/${HEX}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[a-f0-9]{64}$/);
  });

  it("presigns a path-style URL on a custom endpoint, signed at the given clock", async () => {
    const env = { NIXPORT_S3_ENDPOINT: "https://acc.r2.cloudflarestorage.com", NIXPORT_S3_REGION: "auto", NIXPORT_S3_BUCKET: "reg", ...aws };
    const url = await presignFromEnv(env, `blobs/sha256/${HEX}`, Date.parse("2030-01-02T03:04:05Z"));
    expect(url.origin).toBe("https://acc.r2.cloudflarestorage.com");
    expect(url.pathname).toBe(`/reg/blobs/sha256/${HEX}`);
    expect(url.searchParams.get("X-Amz-Date")).toBe("20300102T030405Z");
  });
});

describe("createStoreFromEnv", () => {
  it("defaults to the filesystem in ./data, or NIXPORT_DATA", () => {
    const store = createStoreFromEnv({});
    expect(store).toBeInstanceOf(FsBlobStore);
    expect((store as FsBlobStore).root).toBe(resolve("data"));
    expect((createStoreFromEnv({ NIXPORT_DATA: "/srv/nixport" }) as FsBlobStore).root).toBe("/srv/nixport");
    expect((store as FsBlobStore).prefix).toBe("");
    expect((createStoreFromEnv({ NIXPORT_S3_PREFIX: "a/b" }) as FsBlobStore).prefix).toBe("a/b/");
  });

  it("chooses S3 when a bucket is named, in us-east-1 by default", async () => {
    const store = createStoreFromEnv({ NIXPORT_S3_BUCKET: "b", NIXPORT_S3_PREFIX: "p", AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" });
    expect(store).toBeInstanceOf(S3BlobStore);
    expect((store as S3BlobStore).prefix).toBe("p/");
    expect((store as S3BlobStore).bucket).toBe("b");
    // The edge's presigner, from the same environment, signs the same object.
    const url = await presignFromEnv({ NIXPORT_S3_BUCKET: "b", NIXPORT_S3_PREFIX: "p", AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" }, `blobs/sha256/${HEX}`);
    expect(url.host).toBe("b.s3.us-east-1.amazonaws.com");
    expect(url.pathname).toBe(`/p/blobs/sha256/${HEX}`);
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^k\/\d{8}\/us-east-1\/s3\//);
  });

  it("refuses an endpoint without a bucket", () => {
    expect(() => createStoreFromEnv({ NIXPORT_S3_ENDPOINT: "http://127.0.0.1:9000" })).toThrow(/NIXPORT_S3_BUCKET/);
  });
});

describe("the storage configuration", () => {
  it("reads the environment into one value: folder, prefix, bucket, credentials, public URL", () => {
    expect(storageConfigFromEnv({})).toEqual({ dataDir: "./data", prefix: "" });
    expect(
      storageConfigFromEnv({
        NIXPORT_DATA: "/srv/d", NIXPORT_S3_BUCKET: "b", NIXPORT_S3_ENDPOINT: "http://127.0.0.1:9000", NIXPORT_S3_PREFIX: "x/y",
        AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t", NIXPORT_PUBLIC_BLOB_URL: "https://cdn.test/",
      }),
    ).toEqual({
      dataDir: "/srv/d", prefix: "x/y/",
      s3: { endpoint: "http://127.0.0.1:9000", bucket: "b", region: "us-east-1", pathStyle: true },
      credentials: { accessKeyId: "k", secretAccessKey: "s", sessionToken: "t" },
      publicBlobURL: "https://cdn.test/",
    });
    // Without keys the credentials are left to the AWS SDK's default chain (roles included).
    expect(storageConfigFromEnv({ NIXPORT_S3_BUCKET: "b", AWS_ACCESS_KEY_ID: "k" }).credentials).toBeUndefined();
    expect(storageConfigFromEnv({ NIXPORT_S3_BUCKET: "b", NIXPORT_S3_REGION: "eu-west-1" }).s3).toEqual({
      endpoint: "https://s3.eu-west-1.amazonaws.com", bucket: "b", region: "eu-west-1", pathStyle: false,
    });
  });

  it("refuses a prefix that could climb out, in the Worker too, or land among the data folder's own", () => {
    expect(() => storageConfigFromEnv({ NIXPORT_S3_PREFIX: "../x" })).toThrow(InvalidKeyError);
    for (const prefix of ["work", "work/x", ".tmp", "gcroots/", "tags", "sources"]) {
      expect(() => storageConfigFromEnv({ NIXPORT_S3_PREFIX: prefix }), prefix).toThrow(/NIXPORT_DATA's own/);
    }
    // In a bucket nothing else lives beside the layout.
    expect(storageConfigFromEnv({ NIXPORT_S3_BUCKET: "b", NIXPORT_S3_PREFIX: "work" }).prefix).toBe("work/");
    expect(storageConfigFromEnv({ NIXPORT_S3_PREFIX: "workshop" }).prefix).toBe("workshop/");
    expect(() => storageConfigFromWorker({ S3_PREFIX: "a/../../b" })).toThrow(InvalidKeyError);
  });

  it("gives the Worker the same value from its vars and secrets", () => {
    expect(storageConfigFromWorker({ S3_PREFIX: "p", PUBLIC_BLOB_URL: "https://cdn.test" })).toEqual({ dataDir: "", prefix: "p/", publicBlobURL: "https://cdn.test" });
    const vars = { S3_ENDPOINT: "https://acc.r2.cloudflarestorage.com", S3_BUCKET: "reg", S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "secret" };
    expect(storageConfigFromWorker(vars)).toEqual({
      dataDir: "", prefix: "",
      s3: { endpoint: "https://acc.r2.cloudflarestorage.com", bucket: "reg", region: "auto", pathStyle: true },
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
    });
    // No secret, no bucket: a Worker has no credential chain to fall back on.
    expect(storageConfigFromWorker({ ...vars, S3_SECRET_ACCESS_KEY: "" }).s3).toBeUndefined();
  });
});
