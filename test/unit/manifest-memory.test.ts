import { describe, expect, it } from "vitest";
import { ManifestMemory } from "../../edge/manifest-memory.ts";

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("ManifestMemory", () => {
  it("answers what was put, by digest", () => {
    const m = new ManifestMemory(1024);
    const b = bytes(10);
    m.put("sha256:a", b);
    expect(m.get("sha256:a")).toBe(b);
    expect(m.get("sha256:b")).toBeUndefined();
  });

  it("stays within its byte budget, dropping the least recently used first", () => {
    const m = new ManifestMemory(1600); // entries up to 100 bytes
    for (const d of ["a", "b", "c", "d"]) m.put(`sha256:${d}`, bytes(100));
    m.get("sha256:a"); // a is now the most recent
    for (let i = 0; i < 14; i++) m.put(`sha256:x${i}`, bytes(100));
    expect(m.size).toBe(16);
    expect(m.get("sha256:a")).toBeDefined();
    expect(m.get("sha256:b")).toBeUndefined();
    expect(m.get("sha256:c")).toBeUndefined();
    expect(m.get("sha256:d")).toBeDefined();
  });

  it("does not keep one manifest so large it would flush the rest", () => {
    const m = new ManifestMemory(1600);
    m.put("sha256:small", bytes(50));
    m.put("sha256:huge", bytes(101));
    expect(m.get("sha256:huge")).toBeUndefined();
    expect(m.get("sha256:small")).toBeDefined();
  });

  it("counts a replaced entry once", () => {
    const m = new ManifestMemory(1600);
    for (let i = 0; i < 20; i++) m.put("sha256:same", bytes(100, i));
    for (let i = 0; i < 15; i++) m.put(`sha256:x${i}`, bytes(100));
    expect(m.get("sha256:same")?.[0]).toBe(19);
  });
});
