/** S3 addressing and presigning (common/storage/s3.ts): AWS's published SigV4 example, the signing window, URL forms. */
import { describe, expect, it } from "vitest";
import { InvalidKeyError } from "../../common/storage/layout.ts";
import { objectURL, presignGet, staticCredentials, windowedAmzDate } from "../../common/storage/s3.ts";
import { blobPresigner } from "../../edge/storage/s3.ts";

describe("presignGet", () => {
  it("reproduces AWS's presigned-URL example signature (S3 SigV4 docs, query-string auth)", async () => {
    const url = await presignGet(objectURL({ endpoint: "https://s3.amazonaws.com", bucket: "examplebucket", pathStyle: false }, "test.txt"), {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      region: "us-east-1",
      datetime: "20130524T000000Z",
      expiresSeconds: 86400,
    });
    const u = new URL(url);
    expect(u.host).toBe("examplebucket.s3.amazonaws.com");
    expect(u.searchParams.get("X-Amz-Signature")).toBe("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    expect(u.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
  });
});

describe("windowedAmzDate", () => {
  it("rounds down to the window", () => {
    expect(windowedAmzDate(Date.UTC(2026, 0, 2, 3, 4, 59, 999), 300)).toBe("20260102T030000Z");
    expect(windowedAmzDate(Date.UTC(2026, 0, 2, 3, 5, 0), 300)).toBe("20260102T030500Z");
    expect(windowedAmzDate(Date.UTC(2026, 0, 2, 3, 5, 0), 3600)).toBe("20260102T030000Z");
  });
});

describe("objectURL", () => {
  it("builds path-style by default, virtual-hosted on request, keeping an endpoint path", () => {
    expect(objectURL({ endpoint: "http://127.0.0.1:8080", bucket: "b" }, "blobs/sha256/ab")).toBe("http://127.0.0.1:8080/b/blobs/sha256/ab");
    expect(objectURL({ endpoint: "https://s3.example.com/", bucket: "b", pathStyle: false }, "k")).toBe("https://b.s3.example.com/k");
    expect(objectURL({ endpoint: "https://gw.example.com/s3/", bucket: "b" }, "k")).toBe("https://gw.example.com/s3/b/k");
  });

  it("puts dotted bucket names in the path even when virtual-hosted is asked for (TLS wildcards)", () => {
    expect(objectURL({ endpoint: "https://s3.eu-west-1.amazonaws.com", bucket: "images.example.com", pathStyle: false }, "p/k")).toBe(
      "https://s3.eu-west-1.amazonaws.com/images.example.com/p/k",
    );
  });
});

describe("presignGet limits", () => {
  it("refuses expiries S3 would refuse", async () => {
    const p = { accessKeyId: "k", secretAccessKey: "s", region: "auto", datetime: "20300102T030405Z" };
    await expect(presignGet("https://x.test/b/k", { ...p, expiresSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(presignGet("https://x.test/b/k", { ...p, expiresSeconds: 604_801 })).rejects.toThrow(RangeError);
    expect(await presignGet("https://x.test/b/k", { ...p, expiresSeconds: 604_800 })).toMatch(/X-Amz-Expires=604800/);
  });

  it("signs temporary credentials with their session token", async () => {
    const url = new URL(await presignGet("https://x.test/b/k", { accessKeyId: "ASIA", secretAccessKey: "s", sessionToken: "tok/en", region: "auto", datetime: "20300102T030405Z", expiresSeconds: 60 }));
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("tok/en");
  });
});

describe("blob presigner", () => {
  it("is valid for window + margin and stable within a window", async () => {
    let now = Date.UTC(2026, 5, 1, 0, 0, 1);
    const sign = blobPresigner({
      location: { endpoint: "http://127.0.0.1:9000", bucket: "nixport", region: "us-east-1" },
      credentials: staticCredentials({ accessKeyId: "k", secretAccessKey: "s" }), windowSeconds: 120, marginSeconds: 60, now: () => now,
    });
    const digest = `sha256:${"ef".repeat(32)}`;
    const a = await sign(digest);
    now += 118_000;
    const b = await sign(digest);
    now += 2_000;
    const c = await sign(digest);
    expect(a.status).toBe(307);
    expect(b.location).toBe(a.location);
    expect(c.location).not.toBe(a.location);
    expect(new URL(a.location).searchParams.get("X-Amz-Expires")).toBe("180");
    expect(new URL(a.location).pathname).toBe(`/nixport/blobs/sha256/${"ef".repeat(32)}`);
  });

  it("signs the blob's key under the prefix, and refuses what is not a digest", async () => {
    const sign = blobPresigner({
      location: { endpoint: "https://acc.r2.cloudflarestorage.com", bucket: "reg", region: "auto" },
      prefix: "team/cache/",
      credentials: staticCredentials({ accessKeyId: "k", secretAccessKey: "s" }),
      now: () => Date.UTC(2030, 0, 2, 3, 4, 5),
    });
    const url = new URL((await sign(`sha256:${"ef".repeat(32)}`)).location);
    expect(url.origin + url.pathname).toBe(`https://acc.r2.cloudflarestorage.com/reg/team/cache/blobs/sha256/${"ef".repeat(32)}`);
    expect(url.searchParams.get("X-Amz-Date")).toBe("20300102T030000Z");
    await expect(sign("sha256:nope")).rejects.toThrow(InvalidKeyError);
  });
});
