import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LayerFlights } from "../../builder/image-io/layer-flights.ts";
import type { WrittenLayer } from "../../builder/image-io/layer-writer.ts";
import type { BuildEvent, ImageSpec } from "../../builder/service/types.ts";
import type { LayerRecord } from "../../common/storage/layout.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";

// Two builds needing the same layers at once, real Nix and a real filesystem store. The first
// writer is held between writing a layer and uploading it: before single flight, the second
// build wrote the same layer onto the same scratch file, uploaded it and removed it, and the
// first one's upload then failed with ENOENT.
const started: TestBuilder[] = [];
afterAll(() => Promise.all(started.map((b) => b.stop())));

type LayerEvent = Extract<BuildEvent, { type: "layer" }>;
const spec = (formats: ImageSpec["formats"]): ImageSpec => ({ packages: ["git", "hello"], arch: "amd64", tag: "latest", formats, compression: "gzip" });

describe("layer writes across builds", () => {
  it("writes a layer two running builds need once, while its writer is held before uploading", async () => {
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    let firstWritten!: () => void;
    const holding = new Promise<void>((r) => (firstWritten = r));
    let joined!: () => void;
    const someoneJoined = new Promise<void>((r) => (joined = r));
    let uploads = 0;
    const beforeUpload = async (_layer: WrittenLayer) => {
      if (uploads++ > 0) return;
      firstWritten();
      await held;
    };
    const b = await startTestBuilder({ parts: { pipeline: { beforeUpload, layerFlights: new LayerFlights<LayerRecord>(() => joined()) } } });
    started.push(b);
    const build = (formats: ImageSpec["formats"], events: LayerEvent[]) =>
      b.builder.backend.build(spec(formats), (e) => e.type === "layer" && events.push(e), new AbortController().signal);

    // Different manifest formats: two distinct builds with the very same layers.
    const firstEvents: LayerEvent[] = [];
    const first = build("docker", firstEvents);
    await holding;
    const secondEvents: LayerEvent[] = [];
    const second = build("oci", secondEvents);
    // Held until the second build either joined the write or (the old race) finished on its own.
    await Promise.race([someoneJoined, second.catch(() => undefined)]);
    releaseFirst();
    const [a, c] = await Promise.all([first, second]);

    expect(a.manifests[0]!.digest).not.toBe(c.manifests[0]!.digest);
    const storeLayers = (events: LayerEvent[]) => events.filter((e) => e.storePaths > 0);
    const writes = new Map<string, number>();
    for (const e of [...storeLayers(firstEvents), ...storeLayers(secondEvents)]) writes.set(e.digest, (writes.get(e.digest) ?? 0) + (e.reused ? 0 : 1));
    expect(writes.size).toBeGreaterThan(0);
    expect([...writes.values()].every((n) => n === 1)).toBe(true);
    expect(storeLayers(secondEvents).every((e) => e.reused)).toBe(true);
    // The symlink forest is written by each build, to a scratch file of its own; none is left.
    expect(readdirSync(join(b.dataDir, "work"))).toEqual([]);
  });

  it("writes a joined layer itself when the build writing it fails", async () => {
    let joined!: () => void;
    const someoneJoined = new Promise<void>((r) => (joined = r));
    let firstWritten!: () => void;
    const holding = new Promise<void>((r) => (firstWritten = r));
    let uploads = 0;
    const beforeUpload = async () => {
      if (uploads++ > 0) return;
      firstWritten();
      await someoneJoined;
      throw Object.assign(new Error("injected upload failure"), { code: "EIO" });
    };
    const b = await startTestBuilder({ parts: { pipeline: { beforeUpload, layerFlights: new LayerFlights<LayerRecord>(() => joined()) } } });
    started.push(b);
    const build = (formats: ImageSpec["formats"], events: LayerEvent[]) =>
      b.builder.backend.build(spec(formats), (e) => e.type === "layer" && events.push(e), new AbortController().signal);
    const first = build("docker", []);
    first.catch(() => {});
    await holding;
    const events: LayerEvent[] = [];
    const second = await build("oci", events);
    await expect(first).rejects.toThrow(/injected upload failure/);
    expect(second.manifests).toHaveLength(1);
    expect(events.filter((e) => e.storePaths > 0 && !e.reused).length).toBeGreaterThan(0);
    expect(readdirSync(join(b.dataDir, "work"))).toEqual([]);
  });
});
