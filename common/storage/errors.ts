/**
 * The one error a store or blob reader throws when storage itself fails: S3 or R2 unreachable
 * or refusing (after any retries), a disk full or failing. The builder answers it UNAVAILABLE,
 * the edge 503: retry later. Anything else a storage call throws (InvalidKeyError, RangeError,
 * TypeError…) is a caller's bug and stays INTERNAL.
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
  const e = err as { code?: unknown; syscall?: unknown; message?: string } | null;
  if (err instanceof StorageError || typeof e?.syscall !== "string" || typeof e.code !== "string") return err;
  return new StorageError(String(e.message), { cause: err, code: e.code, syscall: e.syscall });
}
