/**
 * Single flight of layer writes across builds: the first build that needs a layer no store
 * holds claims its key and writes it; every build that needs the same layer meanwhile joins
 * the claim and gets the stored layer when it is there. One per builder process.
 */

interface Claim<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export class LayerFlights<T> {
  private readonly claims = new Map<string, Claim<T>>();

  /** onJoin: told each time a build joins another's write (for tests and the bench). */
  constructor(private readonly onJoin?: (key: string) => void) {}

  /** Layers being written now. */
  get size(): number {
    return this.claims.size;
  }

  /** The write in flight for `key`, to wait for, or undefined when nobody writes it. */
  join(key: string): Promise<T> | undefined {
    const claim = this.claims.get(key);
    if (claim) this.onJoin?.(key);
    return claim?.promise;
  }

  /**
   * Claims `key` for the caller, who must settle the claim: resolve with the stored layer or
   * reject (joiners then write it themselves). The key is free again once settled.
   */
  claim(key: string): { resolve(value: T): void; reject(err: unknown): void } {
    if (this.claims.has(key)) throw new Error(`layer ${key} is already being written`);
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {}); // a claim nobody joined must not be an unhandled rejection
    const claim: Claim<T> = { promise, resolve, reject };
    this.claims.set(key, claim);
    const release = () => {
      if (this.claims.get(key) === claim) this.claims.delete(key);
    };
    return {
      resolve: (value) => (release(), resolve(value)),
      reject: (err) => (release(), reject(err)),
    };
  }
}
