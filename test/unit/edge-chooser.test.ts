/** Rendezvous hashing: stable, balanced, and minimal movement when builders come and go. */
import { describe, expect, it } from "vitest";
import { chooseByRendezvous, hash64, routedBuilder } from "../../edge/builder/chooser.ts";
import type { ImageRequest } from "../../common/image-request.ts";
import type { BuilderClient } from "../../edge/builder/client.ts";

const builders = ["https://b1.example", "https://b2.example", "https://b3.example", "https://b4.example"];
const keys = Array.from({ length: 4000 }, (_, i) => `amd64/pkg${i}:latest`);

describe("chooseByRendezvous", () => {
  it("is deterministic and independent of member order", () => {
    for (const k of keys.slice(0, 200)) {
      expect(chooseByRendezvous([...builders].reverse(), k)).toBe(chooseByRendezvous(builders, k));
    }
  });

  it("spreads keys evenly (each member within 20% of its share)", () => {
    const counts = new Map<string, number>();
    for (const k of keys) {
      const b = chooseByRendezvous(builders, k);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    expect(counts.size).toBe(4);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });

  it("removing a member moves only the keys it had", () => {
    const fewer = builders.filter((b) => b !== "https://b2.example");
    for (const k of keys) {
      const before = chooseByRendezvous(builders, k);
      const after = chooseByRendezvous(fewer, k);
      if (before !== "https://b2.example") expect(after).toBe(before);
    }
  });

  it("adding a member moves keys only to the new member, about its share", () => {
    const more = [...builders, "https://b5.example"];
    let moved = 0;
    for (const k of keys) {
      const before = chooseByRendezvous(builders, k);
      const after = chooseByRendezvous(more, k);
      if (after !== before) {
        expect(after).toBe("https://b5.example");
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(keys.length / 5 - 200);
    expect(moved).toBeLessThan(keys.length / 5 + 200);
  });

  it("refuses an empty member list, and a single member always wins", () => {
    expect(() => chooseByRendezvous([], "k")).toThrow(/no builders/);
    expect(chooseByRendezvous(["only"], "k")).toBe("only");
  });

  it("hash64 is 64-bit and differs for near-identical input", () => {
    const a = hash64("amd64/git:latest");
    const b = hash64("amd64/git:latesu");
    expect(a).not.toBe(b);
    expect(a < 2n ** 64n && a >= 0n).toBe(true);
    expect(hash64("")).toBe(hash64(""));
  });
});

describe("routedBuilder", () => {
  it("sends each request to the builder chosen for its canonical key", async () => {
    const seen = new Map<string, ImageRequest[]>();
    const clients = new Map<string, BuilderClient>(
      builders.map((u) => [u, { build: async (req) => (seen.set(u, [...(seen.get(u) ?? []), req]), { manifests: [], ttlSeconds: null }) }]),
    );
    const routed = routedBuilder(clients);
    const req: ImageRequest = { arch: "arm64", packages: ["git", "htop"], tag: "latest" };
    await routed.build(req);
    await routed.build({ ...req });
    const chosen = chooseByRendezvous(builders, "arm64/git/htop:latest");
    expect(seen.get(chosen)).toHaveLength(2);
    expect([...seen.keys()]).toEqual([chosen]);
  });

  /** Builders that report `systems` (null: a builder that cannot say), recording what each builds. */
  function reporting(systems: Record<string, string[] | null>) {
    const seen: string[] = [];
    let asked = 0;
    const clients = new Map<string, BuilderClient>(
      Object.entries(systems).map(([u, s]) => [
        u,
        {
          build: async (req: ImageRequest) => (seen.push(`${u} ${req.arch}`), { manifests: [], ttlSeconds: null }),
          systems: async () => (asked++, s ?? Promise.reject(new Error("unimplemented"))),
        },
      ]),
    );
    return { clients, seen, asked: () => asked };
  }

  it("sends each platform only to builders whose Nix builds it, asking each builder once", async () => {
    const { clients, seen, asked } = reporting({ "http://x86": ["x86_64-linux"], "http://both": ["aarch64-linux", "x86_64-linux"] });
    const routed = routedBuilder(clients);
    for (const pkg of ["a", "b", "c", "d", "e", "f"]) await routed.build({ arch: "arm64", packages: [pkg], tag: "latest" });
    expect(new Set(seen)).toEqual(new Set(["http://both arm64"]));
    expect(asked()).toBe(2);
  });

  it("names the platform no builder builds; a builder that cannot say counts as able", async () => {
    const { clients } = reporting({ "http://x86": ["x86_64-linux"] });
    await expect(routedBuilder(clients).build({ arch: "arm64", packages: ["hello"], tag: "latest" })).rejects.toMatchObject({
      kind: "unavailable",
      message: "no builder builds linux/arm64 (Nix system aarch64-linux)",
    });
    const silent = reporting({ "http://old": null });
    await routedBuilder(silent.clients).build({ arch: "arm64", packages: ["hello"], tag: "latest" });
    expect(silent.seen).toEqual(["http://old arm64"]);
  });
});
