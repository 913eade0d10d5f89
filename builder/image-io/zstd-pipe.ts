/**
 * zstd compression through the `zstd` binary (Node 20's zlib has none), written straight to
 * the layer file: zstd's stdout *is* the file, so compressed bytes never pass through this
 * process (no socket copy, no stream hops, no thread-pool write per 64 KiB); the file is
 * hashed after zstd exits, from the page cache. On a 2-core host zstd -T0 keeps both cores
 * busy, so every CPU cycle this process spends is taken from zstd: keeping them few is what
 * makes the writer keep up with `tar | zstd -3 -T0`.
 * zstd's multi-threaded mode gives the same bytes whatever the number of worker threads, so
 * `-T0` stays deterministic from one machine to the next (for one zstd version).
 */
import { spawn } from "node:child_process";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { Writable } from "node:stream";
import { digestOf, newDigester } from "../image/digest.ts";

/** A compressed file being written, as the layer writer drives either compressor: tar bytes go into `input`. */
export interface CompressedFile {
  input: Writable;
  /** Resolves once the file is whole, with the digest and size of its compressed bytes. */
  done: Promise<{ digest: string; size: number }>;
  /**
   * Stops compressing (after a failure) and waits until the file is no longer written; the
   * caller removes it. Resolves with the compressor's own failure, if it failed first (zstd's
   * reason is a better error than the EPIPE its death caused upstream).
   */
  stop(): Promise<Error | undefined>;
}

const HASH_READ = 4 << 20;

/** Starts zstd writing to `file` (created here; fails if it exists). */
export async function zstdFile(file: string, level = 3, binary = process.env.NIXPORT_ZSTD ?? "zstd"): Promise<CompressedFile> {
  const out = await open(file, "wx+");
  const child = spawn(binary, [`-${level}`, "-T0", "-q", "-c"], { stdio: ["pipe", out.fd, "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => (stderr = (stderr + s).slice(-2000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(zstdError(code ?? signal ?? "?", stderr.trim()));
    });
  });
  // stdin errors (EPIPE when zstd died) reach the caller's pipeline; zstd's own reason is in `done`.
  const done = exited.then(() => hashFile(out)).finally(() => out.close());
  done.catch(() => {}); // reported to whoever awaits it
  let killed = false;
  return {
    input: child.stdin!,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) killed = child.kill("SIGKILL");
      const failure = await done.then(() => undefined, (err: Error) => err);
      // Exited with a code of its own (even if our kill came too late): zstd's own failure.
      return killed && child.signalCode === "SIGKILL" ? undefined : failure;
    },
  };
}

/**
 * zstd names a failed write in words (strerror); the callers act on errno codes (a full disk
 * is a retryable storage error, not a broken build), so the words get their code back.
 */
const WRITE_ERRORS: [words: string, code: string][] = [
  ["No space left on device", "ENOSPC"],
  ["Disk quota exceeded", "EDQUOT"],
  ["Read-only file system", "EROFS"],
  ["Input/output error", "EIO"],
];

function zstdError(status: number | string, stderr: string): Error {
  const err: NodeJS.ErrnoException = new Error(`zstd exited with ${status}: ${stderr}`);
  const code = WRITE_ERRORS.find(([words]) => stderr.includes(words))?.[1];
  if (code) err.code = code;
  return err;
}

/** sha256 and length of a whole file, read from the start. */
async function hashFile(fd: FileHandle): Promise<{ digest: string; size: number }> {
  const hash = newDigester();
  const buf = Buffer.allocUnsafe(HASH_READ);
  let size = 0;
  for (;;) {
    const { bytesRead } = await fd.read(buf, 0, buf.length, size);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { digest: digestOf(hash), size };
}
