/**
 * The one error a store throws when storage itself fails: S3 unreachable or refusing after
 * its retries, a disk full or failing. The build service answers it UNAVAILABLE (retry later);
 * anything else a store throws (InvalidKeyError, RangeError, TypeError…) is a caller's bug
 * and stays INTERNAL.
 */
export class StorageError extends Error {
  override name = "StorageError";
  /** The errno code of a local failure (ENOSPC, EIO…); its message may name host paths. */
  readonly code: string | undefined;
  readonly syscall: string | undefined;

  constructor(message: string, o: { cause?: unknown; code?: string; syscall?: string } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.code = o.code;
    this.syscall = o.syscall;
  }
}

/**
 * A filesystem call whose system-call failures (errno errors: they carry a syscall) become
 * StorageErrors. Node's argument errors (ERR_…) carry no syscall: they are bugs and pass.
 */
export async function onDisk<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw diskFailure(err);
  }
}

/** `err` as a StorageError when it is an errno error, else unchanged. */
export function diskFailure(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof StorageError || typeof e?.syscall !== "string" || typeof e.code !== "string") return err;
  return new StorageError(e.message, { cause: err, code: e.code, syscall: e.syscall });
}

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
