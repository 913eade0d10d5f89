/**
 * Package sets made for one test run: nix/testpkgs plus packages whose derivations carry a
 * per-run seed, so Nix must really build them and no store holds their layers yet.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyTestpkgs } from "./nix.ts";

export interface BigSpec {
  /** Attribute name (lowercase, so registry names reach it as written). */
  name: string;
  sizeMB: number;
  parts: number;
}

export interface FixturePkgs {
  /** The folder holding default.nix: a NIXPORT_PKGS_PATH. */
  dir: string;
  /** The per-run seed in every derivation below. */
  seed: string;
}

/** A fresh random seed: letters and digits only, so it is safe inside Nix strings. */
export function runSeed(): string {
  return randomBytes(6).toString("hex");
}

/**
 * Writes a package set: testpkgs, plus `uniq` (a small package depending on hello whose
 * output holds the seed) and one nix/testpkgs bigClosure per entry of `big`.
 */
export function fixturePkgs(opts: { seed?: string; big?: BigSpec[]; parent?: string } = {}): FixturePkgs {
  const seed = opts.seed ?? runSeed();
  const parent = opts.parent ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, "nixport-pkgs-"));
  copyTestpkgs(dir);
  const bigs = (opts.big ?? []).map(
    (b) => `  ${b.name} = t.lib.bigClosure { name = "${b.name}"; sizeMB = ${b.sizeMB}; parts = ${b.parts}; seed = "${seed}"; };`,
  );
  writeFileSync(
    join(dir, "default.nix"),
    `# Written by test/support/fixture-pkgs.ts for one test run (seed ${seed}).
{ system ? builtins.currentSystem }:
let t = import ./testpkgs { inherit system; }; in
t // {
  uniq = t.lib.mkPkg {
    pname = "uniq";
    version = "1";
    description = "A package no store has built before (seed ${seed})";
    deps = [ t.hello ];
    script = "mkdir -p $out/share; echo ${seed} > $out/share/seed";
  };
${bigs.join("\n")}
}
`,
  );
  return { dir, seed };
}
