/** Reading what a store returned, its failures typed as storage failures (common/storage/errors.ts). */
import { StorageError } from "../../common/storage/errors.ts";

/** The whole of a blob stream a store returned; the stream's failures are storage failures. */
export async function readStream(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StorageError(`reading a stored blob failed: ${e?.code ?? e?.message ?? String(err)}`, { cause: err, ...(e?.code ? { code: e.code } : {}), ...(e?.syscall ? { syscall: e.syscall } : {}) });
  }
  return Buffer.concat(chunks);
}
