import type { WireBuildEvent } from "./grpc-client.ts";

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const PHASE_NAMES: Record<string, string> = {
  PHASE_QUEUED: "queued",
  PHASE_RESOLVING_SOURCE: "resolving source",
  PHASE_CHECKING_NAMES: "checking names",
  PHASE_REALISING: "realising",
  PHASE_PLANNING: "planning layers",
  PHASE_WRITING_LAYERS: "writing layers",
  PHASE_WRITING_MANIFEST: "writing manifest",
  PHASE_DONE: "done",
};

/**
 * Build progress: one redrawn status line with a bar on a terminal, plain lines otherwise.
 * With a `prefix` (one of several platforms built at once) always plain lines, each starting
 * with it: redrawn lines of parallel builds would overwrite each other.
 */
export class Progress {
  private phase = "";
  private layersDone = 0;
  private layersTotal = 0;
  private bytes = 0;
  private drawn = false;

  private readonly out: Out;

  constructor(
    out: Out,
    private readonly prefix = "",
  ) {
    this.out = prefix ? { write: (t) => out.write(t) } : out;
  }

  event(e: WireBuildEvent): void {
    if (e.event === "phase" && e.phase) {
      this.phase = PHASE_NAMES[e.phase.phase] ?? e.phase.phase;
      this.line(`${this.phase}: ${e.phase.message}`);
    } else if (e.event === "log" && e.log) {
      if (!this.out.isTTY) this.line(`  ${e.log.line}`);
    } else if (e.event === "layer" && e.layer) {
      this.layersDone++;
      this.layersTotal = e.layer.count;
      this.bytes += Number(e.layer.size);
      const how = e.layer.reused ? "reused" : "written";
      if (!this.out.isTTY) this.line(`layer ${e.layer.index}/${e.layer.count} ${how} ${e.layer.digest} (${e.layer.size} bytes)`);
    }
    if (this.out.isTTY) this.draw();
  }

  finish(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }

  private line(s: string): void {
    if (this.out.isTTY) return;
    this.out.write(`${this.prefix}${s}\n`);
  }

  private draw(): void {
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
    const frac = this.layersTotal ? this.layersDone / this.layersTotal : 0;
    const filled = Math.round(frac * width);
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
    const mb = (this.bytes / 1e6).toFixed(1);
    this.out.write(`\r\x1b[2K${bar} ${this.layersDone}/${this.layersTotal || "?"} layers ${mb} MB  ${this.phase}`);
    this.drawn = true;
  }
}
