import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BuildError } from "../../builder/errors.ts";
import { Nix } from "../../builder/nix/nix.ts";
import { PathSource, type ResolvedSource } from "../../builder/sources.ts";

/** The repository's network-free package set. */
export const TESTPKGS = resolve(new URL("../../nix/testpkgs", import.meta.url).pathname);

/** A Nix driver with its own GC-root folder. */
export function testNix(opts: { buildTimeoutMs?: number } = {}): Nix {
  return new Nix({ gcRootDir: mkdtempSync(join(tmpdir(), "nixport-gcroots-")), ...opts });
}

export async function testpkgsSource(): Promise<ResolvedSource> {
  return new PathSource(TESTPKGS).resolve("latest");
}

/** The BuildError a promise rejects with; anything else (or fulfilment) fails the test. */
export async function caught(p: Promise<unknown>): Promise<BuildError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BuildError) return e;
    throw e;
  }
  throw new Error("expected a BuildError");
}
