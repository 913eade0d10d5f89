/**
 * A deterministic synthetic package set shaped like nixpkgs: a few base packages nearly
 * everything needs (glibc, bash, …), libraries whose popularity falls off like a power law,
 * and applications on top; some packages split into several outputs. Sizes are log-normal
 * with a few very large paths. Everything comes from a seeded PRNG.
 */
import type { StorePathInfo } from "../../builder/nix/graph.ts";
import { prng } from "../support/prng.ts";


export interface PackageSet {
  /** Every store path of every package. */
  infos: Map<string, StorePathInfo>;
  /** Each package's main output, in package order. */
  packages: string[];
  /** Index of the first application; earlier packages are base and libraries. */
  firstApp: number;
}

export interface PackageSetShape {
  packages: number;
  seed: number;
}

const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";
const BASE = 12;
const OUTPUT_SUFFIXES = ["lib", "bin", "share", "data"];

export function syntheticPackageSet({ packages, seed }: PackageSetShape): PackageSet {
  const rand = prng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const hash = () => Array.from({ length: 32 }, () => NIX_BASE32[Math.floor(rand() * 32)]).join("");
  const firstApp = Math.max(BASE + 1, Math.floor(packages / 3));
  const infos = new Map<string, StorePathInfo>();
  const mains: string[] = [];
  for (let i = 0; i < packages; i++) {
    const tier = i < BASE ? 0 : i < firstApp ? 1 : 2;
    const median = [2e7, 1e6, 1e6][tier]!;
    const size = () => Math.round(Math.min(2e9, rand() < 0.01 ? 1.5e8 * (1 + rand()) : median * Math.exp(1.3 * normal())));
    const deps = pickDependencies(i, tier, rand).map((j) => mains[j]!);
    const name = `pkg${i}-${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}`;
    const main = `/nix/store/${hash()}-${name}`;
    const outputs: string[] = [];
    const extra = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 0;
    for (let k = 0; k < extra; k++) {
      const out = `/nix/store/${hash()}-${name}-${OUTPUT_SUFFIXES[k]}`;
      // Split outputs carry part of the package's dependencies.
      infos.set(out, { path: out, narSize: size(), references: deps.filter(() => rand() < 0.5) });
      outputs.push(out);
    }
    infos.set(main, { path: main, narSize: size(), references: [main, ...outputs, ...deps] });
    mains.push(main);
  }
  return { infos, packages: mains, firstApp };
}

/** Dependencies skew towards low indices, which therefore become popular. */
function pickDependencies(i: number, tier: number, rand: () => number): number[] {
  if (i === 0) return [];
  const count = [1 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 5), 2 + Math.floor(rand() * 6)][tier]!;
  const picked = new Set<number>();
  for (let k = 0; k < count * 3 && picked.size < count; k++) picked.add(Math.floor(i * Math.pow(rand(), 2.2)));
  return [...picked];
}
