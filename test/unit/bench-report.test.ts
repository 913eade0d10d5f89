import { describe, expect, it } from "vitest";
import { BEGIN, END, benchBlock, replaceBlock, type Machine } from "../bench/readme.ts";
import { compared, figure, formatJsonLines, formatTable, formatTarget, targetMet } from "../bench/report.ts";

describe("bench figures: one schema", () => {
  it("a comparison's ratio is value ÷ baseline, never value ÷ target", () => {
    const f = compared("write", "write.zstd_mb_s", 240, "MB/s", 320, { target: { of: "ratio", min: 0.8 } });
    expect(f).toEqual({ suite: "write", name: "write.zstd_mb_s", value: 240, unit: "MB/s", baseline: 320, ratio: 0.75, target: { of: "ratio", min: 0.8 }, met: false });
  });

  it("a target on the value needs no baseline; met is there exactly when a target is", () => {
    expect(figure("write", "write.peak_rss_mb", 161, "MB", { target: { of: "value", max: 200 } })).toMatchObject({ met: true });
    expect(figure("pull", "pull.warm_ms", 19, "ms")).not.toHaveProperty("met");
    expect(compared("x", "x.y", 1, "s", 2)).not.toHaveProperty("target");
  });

  it("a zero baseline gives no ratio, and so never meets a ratio target", () => {
    const f = compared("x", "x.y", 3, "s", 0, { target: { of: "ratio", max: 1.2 } });
    expect(f.ratio).toBeUndefined();
    expect(f.met).toBe(false);
  });

  it("refuses a ratio target on a figure without a baseline", () => {
    expect(() => figure("x", "x.y", 1, "s", { target: { of: "ratio", min: 1 } })).toThrow(/needs a baseline/);
  });

  it.each([
    [{ of: "ratio" as const, min: 0.8 }, 0.8, true, "ratio ≥ 0.800"],
    [{ of: "ratio" as const, min: 0.8 }, 0.79, false, "ratio ≥ 0.800"],
    [{ of: "ratio" as const, min: 0.95, max: 1.05 }, 1.06, false, "0.950 ≤ ratio ≤ 1.050"],
    [{ of: "ratio" as const, min: 0.95, max: 1.05 }, 0.95, true, "0.950 ≤ ratio ≤ 1.050"],
    [{ of: "value" as const, max: 0 }, 0, true, "value ≤ 0"],
    [{ of: "value" as const, min: 2, max: 2 }, 3, false, "value = 2"],
  ])("target %j on %d: met %s, printed %s", (target, x, met, text) => {
    expect(targetMet({ value: x, ratio: x }, target)).toBe(met);
    expect(formatTarget(target)).toBe(text);
  });

  it("the table prints figure, reference, ratio, target and met; JSON is one figure a line", () => {
    const figures = [compared("write", "write.zstd_mb_s", 240, "MB/s", 320, { target: { of: "ratio", min: 0.8 } }), figure("pull", "pull.warm_ms", 19, "ms")];
    const [head, first, second] = formatTable(figures).split("\n");
    expect(head!.split(/\s{2,}/)).toEqual(["name", "figure", "reference", "ratio", "target", "met"]);
    expect(first!.split(/\s{2,}/)).toEqual(["write.zstd_mb_s", "240 MB/s", "320 MB/s", "0.750", "ratio ≥ 0.800", "NO"]);
    expect(second!.trim().split(/\s{2,}/)).toEqual(["pull.warm_ms", "19 ms"]);
    expect(formatJsonLines(figures).split("\n").map((l) => JSON.parse(l))).toEqual(figures);
  });
});

describe("the README's benchmark table", () => {
  const machine: Machine = { date: "2026-12-02T03:00:00Z", cpu: "Some CPU", cores: 2, memoryGiB: 24, node: "v20.20.2", loadAtStart: 3.2, loadAtEnd: 4.1 };
  const figures = [
    compared("write", "write.zstd_mb_s", 240, "MB/s", 320, { target: { of: "ratio", min: 0.8 }, label: "zstd layer throughput", reference: "`tar | zstd -3 -T0`" }),
    figure("write", "write.input_mb", 629, "MB"),
  ];

  it("holds the date, the machine, the load, and one row per labelled figure (pipes escaped)", () => {
    const block = benchBlock(figures, machine);
    expect(block.startsWith(BEGIN) && block.endsWith(END)).toBe(true);
    expect(block).toContain("2026-12-02T03:00:00Z: 2 × Some CPU, 24 GiB, Node v20.20.2");
    expect(block).toContain("load average 3.2 at the start, 4.1 at the end");
    expect(block).toContain("| write | zstd layer throughput | 240 MB/s | 320 MB/s (`tar \\| zstd -3 -T0`) | 0.750 | ratio ≥ 0.800 | NO |");
    expect(block).not.toContain("629");
  });

  it("replaces only what is between the markers, and refuses a README without them", () => {
    const readme = `# x\n\nbefore\n${BEGIN}\nold figures\n${END}\nafter\n`;
    const out = replaceBlock(readme, benchBlock(figures, machine));
    expect(out.startsWith("# x\n\nbefore\n")).toBe(true);
    expect(out.endsWith(`${END}\nafter\n`)).toBe(true);
    expect(out).not.toContain("old figures");
    expect(replaceBlock(out, benchBlock(figures, machine))).toBe(out);
    expect(() => replaceBlock("# no markers\n", "x")).toThrow(/markers/);
  });
});
