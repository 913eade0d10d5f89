import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuilder, type Builder } from "../../builder/builder.ts";
import { builderConfigFromEnv } from "../../builder/config.ts";
import { StorageError } from "../../common/storage/errors.ts";
import { createStoreFromEnv } from "../../builder/store/index.ts";
import type { BlobStore } from "../../builder/store/types.ts";
import type { ImageSpec } from "../../builder/service/types.ts";
import { BuildError } from "../../common/build-error.ts";
import { InvalidKeyError } from "../../common/storage/layout.ts";
import { TESTPKGS } from "../support/nix.ts";

// Only real storage failures (a store's StorageError) become a retryable UNAVAILABLE; a bug
// that surfaces in a call to the store stays itself, which the gRPC layer answers INTERNAL and
// logs as a bug.
const dataDir = mkdtempSync(join(tmpdir(), "nixport-build-errors-"));
const env = { NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: dataDir };
let fault: (() => Error) | undefined;
let builder: Builder;

/** The real filesystem store, whose config writes throw `fault` while it is set. */
function faultyStore(real: BlobStore): BlobStore {
  return new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === "putBlobBytes") return (...args: Parameters<BlobStore["putBlobBytes"]>) => (fault ? Promise.reject(fault()) : target.putBlobBytes(...args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  builder = await createBuilder(builderConfigFromEnv(env), env, { store: faultyStore(createStoreFromEnv(env)) });
});
afterAll(async () => {
  await builder?.close(1000);
  rmSync(dataDir, { recursive: true, force: true });
});

const spec: ImageSpec = { packages: ["hello"], arch: "amd64", tag: "latest", formats: "both", compression: "gzip" };
const build = () => builder.backend.build(spec, () => {}, new AbortController().signal);

describe("what a failing store call becomes", () => {
  it.each([
    // What the stores throw for these (builder/store/errors.ts): storage errors are typed there.
    ["a disk error", () => new StorageError("EIO: i/o error, open '/srv/secret/x'", { code: "EIO", syscall: "open" }), /^storage failed while writing the image config: disk error \(EIO\)$/],
    ["a request that never got an answer", () => new StorageError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }), /^storage failed while writing the image config: fetch failed$/],
  ])("%s: a retryable UNAVAILABLE naming the storage", async (_what, error, message) => {
    fault = error;
    const err = await build().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect(err).toMatchObject({ kind: "unavailable", message: expect.stringMatching(message) });
  });

  it.each([
    ["a type error", () => new TypeError("Cannot read properties of undefined (reading 'digest')")],
    ["a range error", () => new RangeError("Invalid array length")],
    ["a key outside the layout", () => new InvalidKeyError('not a sha256 digest: "sha256:"')],
  ])("%s: stays itself (a bug), not a storage failure", async (_what, error) => {
    fault = error;
    const err = await build().then(() => null, (e: unknown) => e);
    expect(err).not.toBeInstanceOf(BuildError);
    expect((err as Error).message).toBe(error().message);
  });

  it("and once the store works, the same build succeeds", async () => {
    fault = undefined;
    const r = await build();
    expect(r.manifests[0]!.digest).toMatch(/^sha256:/);
  });
});
