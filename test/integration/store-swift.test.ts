// The Swift test support itself: parallel instances, clean stop, readiness errors with logs.
import { existsSync } from "node:fs";
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { startSwift, type SwiftS3 } from "../support/swift.ts";

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Lists the instance's bucket through its S3 API, signed with its credentials. */
async function listBucket(s: SwiftS3): Promise<number> {
  const aws = new AwsClient({ accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, service: "s3", region: s.region });
  const res = await aws.fetch(`${s.endpoint}/${s.bucket}?list-type=2`);
  await res.text();
  return res.status;
}

describe("startSwift", () => {
  it("runs two instances side by side and stops each completely", async () => {
    const [a, b] = await Promise.all([startSwift(), startSwift({ bucket: "other" })]);
    try {
      expect(a.endpoint).not.toBe(b.endpoint);
      expect(await listBucket(a)).toBe(200);
      expect(await listBucket(b)).toBe(200);
      expect(a.pids).toHaveLength(4);
    } finally {
      await a.stop();
    }
    expect(a.pids.filter(running)).toEqual([]);
    expect(existsSync(a.dir)).toBe(false);
    // Stopping one left the other alone.
    expect(b.pids.filter(running)).toHaveLength(4);
    expect(await listBucket(b)).toBe(200);
    await b.stop();
    expect(b.pids.filter(running)).toEqual([]);
  });

  it("reports a readiness timeout with the servers' logs", async () => {
    await expect(startSwift({ readyTimeoutMs: 1 })).rejects.toThrow(/not ready after 1 ms[\s\S]*--- proxy server log ---/);
  });
});
