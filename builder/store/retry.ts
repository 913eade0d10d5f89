/** Bounded retries with exponential backoff and jitter, for calls to remote storage. */
import { StorageError } from "../../common/storage/errors.ts";

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubled for each later one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * Runs `attempt` until it succeeds, `retryable` says no, or the attempts are used up; then
 * throws one error naming `what` and the attempt count, with the last failure as its cause.
 */
export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  retryable: (err: unknown) => boolean,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const last = n >= policy.attempts || !retryable(err);
      if (last) {
        const tries = n === 1 ? "1 attempt" : `${n} attempts`;
        throw new StorageError(`${what} failed after ${tries}: ${describe(err)}`, { cause: err });
      }
      await sleep(backoff(policy, n));
    }
  }
}

/** Full delay for attempt n's retry, between half and all of the exponential step. */
function backoff(policy: RetryPolicy, n: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
  return step / 2 + Math.random() * (step / 2);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
