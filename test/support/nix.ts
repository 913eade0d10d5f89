import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BuildError } from "../../common/build-error.ts";
import { Nix } from "../../builder/nix/nix.ts";
import { PathSource, type ResolvedSource } from "../../builder/sources.ts";

/** The repository's network-free package set. */
export const TESTPKGS = resolve(new URL("../../nix/testpkgs", import.meta.url).pathname);

/**
 * Copies nix/testpkgs into `dir`/testpkgs, for a test's own package set in `dir` that
 * extends it (`import ./testpkgs { … }`): evaluation is restricted to the package set's own
 * folder, so it cannot import nix/testpkgs from where it lies.
 */
export function copyTestpkgs(dir: string): void {
  cpSync(TESTPKGS, join(dir, "testpkgs"), { recursive: true });
}

/** A package set of a test's own in `dir`: testpkgs (copied beside it) plus `attrs`, Nix attribute lines over `t`. */
export function testpkgsWith(dir: string, attrs: string): string {
  copyTestpkgs(dir);
  writeFileSync(join(dir, "default.nix"), `{ system ? builtins.currentSystem }:\nlet t = import ./testpkgs { inherit system; }; in t // {\n${attrs}\n}\n`);
  return dir;
}

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
