/**
 * Fairness: at most `max` distinct builds in flight per client address, so one client cannot
 * fill the builders' queue with images nobody else asked for. A pull that joins a build the
 * client already has costs nothing more; cache hits are never counted. A build the client
 * stopped waiting for goes on at the builder, so it still counts until someone gets its
 * result or `holdMs` passes.
 */
import { errors } from "./errors.ts";

export interface ClientBuildsOptions {
  /** Distinct builds per client; 0: no cap. */
  max: number;
  retryAfterSeconds: number;
  now: () => number;
  /** How long a build its client gave up waiting for still counts (default 30 minutes, the builder's default deadline). */
  holdMs?: number;
}

export class ClientBuilds {
  /** Per client: image key → counted until (ms; Infinity while the client waits). */
  private readonly byClient = new Map<string, Map<string, number>>();

  constructor(private readonly o: ClientBuildsOptions) {}

  /**
   * Runs `build` (of image `key`) for `client`, or refuses it with 429 when the client has
   * `max` other builds in flight. `stillBuilding(err)` tells a failure that leaves the build
   * running. No address, or max 0: no cap.
   */
  async run<T>(client: string | undefined, key: string, build: () => Promise<T>, stillBuilding: (err: unknown) => boolean): Promise<T> {
    if (!client || this.o.max <= 0) return build();
    const keys = this.live(client);
    if (!keys.has(key) && keys.size >= this.o.max) {
      throw errors.tooManyRequests(`too many builds in progress for this client (${keys.size}, at most ${this.o.max}); pull again once they are done`, this.o.retryAfterSeconds);
    }
    keys.set(key, Infinity);
    try {
      const result = await build();
      this.finished(key);
      return result;
    } catch (err) {
      if (stillBuilding(err)) keys.set(key, this.o.now() + (this.o.holdMs ?? 30 * 60_000));
      else this.finished(key);
      throw err;
    }
  }

  /** The client's counted builds, expired ones dropped. */
  private live(client: string): Map<string, number> {
    let keys = this.byClient.get(client);
    if (!keys) this.byClient.set(client, (keys = new Map()));
    const now = this.o.now();
    for (const [k, until] of keys) if (until <= now) keys.delete(k);
    return keys;
  }

  /** The build of `key` has a result (or failed for good): it counts for nobody any more. */
  private finished(key: string): void {
    for (const [client, keys] of this.byClient) {
      keys.delete(key);
      if (keys.size === 0) this.byClient.delete(client);
    }
  }
}
