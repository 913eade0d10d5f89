/**
 * Parallel gzip, the way pigz does it: the input is cut into fixed-size blocks, each block
 * is deflated on its own (on libuv's threadpool, through zlib's async API) with the previous
 * block's last 32 KiB as its dictionary and ends in a sync flush, so the raw deflate pieces
 * concatenate into one deflate stream inside a single gzip member. A block's output depends
 * only on its bytes, its dictionary and the level, never on thread timing: the result is
 * deterministic. The gzip header carries no name and mtime 0.
 */
import { availableParallelism } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";

const BLOCK = 1 << 20;
const WINDOW = 32 * 1024;
// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix), fixed so every builder writes the same.
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/** A counting semaphore. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function threadpoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n > 0 ? n : 4;
}

/**
 * Compression jobs running at once, shared by every layer this process writes: one per
 * core plus one, so a core never waits for the main thread to hand it the next block, and
 * always one threadpool thread left for the file reads and writes that feed them.
 * NIXPORT_GZIP_JOBS overrides the first part (raise UV_THREADPOOL_SIZE with it).
 */
const wantedJobs = Number(process.env.NIXPORT_GZIP_JOBS) || availableParallelism() + 1;
const slots = new Slots(Math.max(1, Math.min(wantedJobs, threadpoolSize() - 1)));

function deflateBlock(input: Buffer, dictionary: Buffer | undefined, last: boolean, level: number): Promise<Buffer> {
  const options: zlib.ZlibOptions = {
    level,
    finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
    // One output buffer big enough for the whole block: one trip to the threadpool, not dozens.
    chunkSize: BLOCK + 64 * 1024,
    ...(dictionary ? { dictionary } : {}),
  };
  return new Promise((resolve, reject) => {
    zlib.deflateRaw(input, options, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

async function deflateInSlot(input: Buffer, dictionary: Buffer | undefined, last: boolean, level: number): Promise<Buffer> {
  await slots.acquire();
  try {
    return await deflateBlock(input, dictionary, last, level);
  } finally {
    slots.release();
  }
}

export interface ParallelGzipOptions {
  /** zlib level, 1–9; default 6. */
  level?: number;
  /** Blocks compressed or waiting to be written, per stream; bounds memory. Default 4. */
  window?: number;
}

/** A Transform from bytes to one gzip member, compressed block-parallel. */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly window: number;
  private block = Buffer.allocUnsafe(BLOCK);
  private used = 0;
  private dictionary: Buffer | undefined;
  private inFlight: Promise<Buffer>[] = [];
  private crc = 0;
  private length = 0;

  constructor(options: ParallelGzipOptions = {}) {
    super();
    this.level = options.level ?? 6;
    this.window = Math.max(1, options.window ?? 4);
    this.push(HEADER);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.absorb(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), callback);
  }

  private async absorb(chunk: Buffer): Promise<void> {
    this.crc = zlib.crc32(chunk, this.crc);
    this.length = (this.length + chunk.length) % 2 ** 32;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(BLOCK - this.used, chunk.length - offset);
      chunk.copy(this.block, this.used, offset, offset + n);
      this.used += n;
      offset += n;
      if (this.used === BLOCK) await this.submit(false);
    }
  }

  /** Starts compressing the current block; waits for the oldest when the window is full. */
  private async submit(last: boolean): Promise<void> {
    const input = this.block.subarray(0, this.used);
    const job = deflateInSlot(input, this.dictionary, last, this.level);
    job.catch(() => {}); // a failure is reported when the job is awaited in order
    this.inFlight.push(job);
    this.dictionary = input.length >= WINDOW ? input.subarray(input.length - WINDOW) : this.tail(input);
    this.block = Buffer.allocUnsafe(BLOCK);
    this.used = 0;
    while (this.inFlight.length >= this.window) await this.emitOldest();
  }

  /** Dictionary after a short (final) block: only ever needed when blocks are tiny. */
  private tail(input: Buffer): Buffer {
    const joined = this.dictionary ? Buffer.concat([this.dictionary, input]) : input;
    return joined.subarray(Math.max(0, joined.length - WINDOW));
  }

  private async emitOldest(): Promise<void> {
    const out = await this.inFlight.shift()!;
    this.push(out);
  }

  private async finish(): Promise<void> {
    // The last block (possibly empty) carries the final deflate block.
    await this.submit(true);
    while (this.inFlight.length > 0) await this.emitOldest();
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.length >>> 0, 4);
    this.push(trailer);
  }
}
