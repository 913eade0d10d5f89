/**
 * zstd compression through the `zstd` binary (Node 20's zlib has none). zstd's
 * multi-threaded mode gives the same bytes whatever the number of worker threads, so
 * `-T0` stays deterministic from one machine to the next (for one zstd version).
 */
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";

export interface ZstdStage {
  /** Bytes in, one zstd frame out. */
  stream: Duplex;
  /** Resolves when zstd exited cleanly; rejects on any other exit. */
  exited: Promise<void>;
}

export function zstdStage(level = 3, binary = process.env.NIXPORT_ZSTD ?? "zstd"): ZstdStage {
  const child = spawn(binary, [`-${level}`, "-T0", "-q", "-c"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`zstd exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
  exited.catch(() => {}); // reported through `exited` by whoever awaits it
  const stream = Duplex.from({ writable: child.stdin, readable: child.stdout });
  // A torn-down pipeline must not leave zstd running.
  stream.on("close", () => {
    const running = child.exitCode === null && child.signalCode === null;
    if (running && !stream.readableEnded) child.kill("SIGKILL");
  });
  return { stream, exited };
}
