// The little of `cloudflare:test` these tests use, typed structurally so the project's
// tsconfig needs no Workers globals (they clash with the DOM lib). Ambient modules cannot
// import relative paths, so the shapes are spelled out; they match edge/storage/r2.ts's
// R2BucketLike and edge/cache.ts's KVNamespaceLike.
declare module "cloudflare:test" {
  interface R2BucketForTests {
    head(key: string): Promise<{ size: number } | null>;
    get(key: string, options?: { range?: { offset: number; length: number } }): Promise<{ size: number; body: ReadableStream<Uint8Array> } | null>;
    put(key: string, value: Uint8Array | string): Promise<unknown>;
    delete(keys: string | string[]): Promise<void>;
  }
  interface KVForTests {
    get(key: string): Promise<string | null>;
    put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
    delete(key: string): Promise<void>;
    list(options?: { prefix?: string }): Promise<{ keys: { name: string; expiration?: number }[] }>;
  }
  export const env: {
    BLOBS: R2BucketForTests;
    SCRATCH: R2BucketForTests;
    TAGS: KVForTests;
    SOURCE: string;
  };
  export const SELF: { fetch(input: string | Request, init?: RequestInit): Promise<Response> };
}
