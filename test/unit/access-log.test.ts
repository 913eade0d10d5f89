import { describe, expect, it } from "vitest";
import { accessLogLines } from "../../edge/node/access-log.ts";

const turn = () => new Promise((r) => setImmediate(r));

describe("accessLogLines", () => {
  it("writes one JSON line per request, gathered into one write per event-loop turn", async () => {
    const writes: string[] = [];
    const log = accessLogLines("nixport", (t) => writes.push(t));
    log({ method: "GET", path: "/v2/hello/manifests/latest", status: 200, ms: 1, cache: "hit" });
    log({ method: "HEAD", path: "/v2/", status: 200, ms: 0 });
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ component: "nixport", msg: "request", method: "GET", status: 200, cache: "hit" });
    expect(Date.parse(String(lines[0]!.time))).toBeGreaterThan(Date.parse("2020-01-01"));
    expect(lines[1]).toMatchObject({ method: "HEAD", path: "/v2/" });
    log({ method: "GET", path: "/", status: 200, ms: 0 });
    await turn();
    expect(writes).toHaveLength(2);
  });

  it("does not let a burst wait for the next turn past 64 KiB", () => {
    const writes: string[] = [];
    const log = accessLogLines("nixport", (t) => writes.push(t));
    for (let i = 0; i < 1000; i++) log({ method: "GET", path: `/v2/${"a".repeat(100)}/manifests/${i}`, status: 404, ms: 0, error: "MANIFEST_UNKNOWN" });
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((w) => w.length <= 64 * 1024 + 400)).toBe(true);
  });
});
