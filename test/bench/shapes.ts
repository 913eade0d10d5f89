/**
 * Package sets of different structure for the layering-quality measures, all from a seeded
 * PRNG: one planner can look good on one graph shape and poor on another.
 *
 * - `random`: a random DAG, dependencies drawn uniformly from earlier packages; no hubs.
 * - `nixpkgs`: synthetic.ts's nixpkgs-like set (a few big base packages nearly everything
 *   needs — a libc, an openssl —, power-law libraries, applications on top).
 * - `language`: a language package set: an interpreter and a small C base under thousands
 *   of language packages that depend on each other in deep chains.
 *
 * Each set also has a language ecosystem (an interpreter and its packages), so that every
 * shape has "add a language package" pairs, and leaf packages whose version can be bumped.
 */
import type { StorePathInfo } from "../../builder/nix/graph.ts";
import { prng } from "../support/prng.ts";
import { syntheticPackageSet } from "./synthetic.ts";

export interface ShapedSet {
  /** Every store path of every package. */
  infos: Map<string, StorePathInfo>;
  /** Each package's main output. */
  packages: string[];
  /** Packages images are made of. */
  apps: string[];
  /** The language ecosystem's packages (not the interpreter). */
  language: string[];
}

export type ShapeName = "random" | "nixpkgs" | "language";
export const SHAPES: readonly ShapeName[] = ["random", "nixpkgs", "language"];

const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** Draws of one seeded PRNG: hashes, log-normal sizes, picks. */
function draws(seed: number) {
  const rand = prng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return {
    rand,
    hash: () => Array.from({ length: 32 }, () => NIX_BASE32[Math.floor(rand() * 32)]).join(""),
    size: (median: number) => Math.round(Math.min(2e9, median * Math.exp(1.2 * normal()))),
    below: (n: number) => Math.floor(rand() * n),
  };
}
type Draws = ReturnType<typeof draws>;

/** Adds one package (one store path) referring to `deps`; returns its path. */
function addPackage(infos: Map<string, StorePathInfo>, d: Draws, name: string, narSize: number, deps: string[]): string {
  const path = `/nix/store/${d.hash()}-${name}-${1 + d.below(9)}.${d.below(20)}`;
  infos.set(path, { path, narSize, references: [path, ...new Set(deps)] });
  return path;
}

export function shapedSet(shape: ShapeName, packages: number, seed: number): ShapedSet {
  if (shape === "nixpkgs") {
    const set = syntheticPackageSet({ packages, seed });
    const base = set.packages.slice(0, 12);
    return withLanguage({ infos: set.infos, packages: [...set.packages], apps: set.packages.slice(set.firstApp), language: [] }, base, packages / 6, seed);
  }
  if (shape === "random") return withLanguage(randomDag(packages, seed), [], packages / 10, seed);
  return languageSet(packages, seed);
}

/** Each package refers to 1–6 packages drawn uniformly from the earlier ones. */
function randomDag(packages: number, seed: number): ShapedSet {
  const d = draws(seed);
  const infos = new Map<string, StorePathInfo>();
  const mains: string[] = [];
  for (let i = 0; i < packages; i++) {
    const deps = i === 0 ? [] : Array.from({ length: 1 + d.below(6) }, () => mains[d.below(i)]!);
    mains.push(addPackage(infos, d, `pkg${i}`, d.size(2e6), deps));
  }
  return { infos, packages: mains, apps: mains.slice(Math.floor(packages / 2)), language: [] };
}

/**
 * An interpreter (referring to some of `base`) and `count` language packages, each
 * referring to the interpreter and to 0–`fanOut` earlier language packages (the early ones, like
 * a language's `six` or `requests`, end up in many closures).
 */
function withLanguage(set: ShapedSet, base: readonly string[], count: number, seed: number, fanOut = 3): ShapedSet {
  const d = draws(seed + 7777);
  const interpreter = addPackage(set.infos, d, "python3", 1.1e8, base.filter(() => d.rand() < 0.5));
  set.packages.push(interpreter);
  for (let i = 0; i < count; i++) {
    const deps = [interpreter, ...Array.from({ length: d.below(fanOut + 1) }, () => set.language[Math.floor(i * d.rand() ** 1.5)]!).filter(Boolean)];
    const p = addPackage(set.infos, d, `python3.11-mod${i}`, d.size(3e5), deps);
    set.language.push(p);
    set.packages.push(p);
  }
  return set;
}

/** A small C base, an interpreter, and `packages` language packages; apps are the later ones. */
function languageSet(packages: number, seed: number): ShapedSet {
  const d = draws(seed);
  const infos = new Map<string, StorePathInfo>();
  const libc = addPackage(infos, d, "glibc", 3e7, []);
  const base = [libc];
  for (const name of ["zlib", "openssl", "libffi", "sqlite", "ncurses", "readline", "expat"]) base.push(addPackage(infos, d, name, d.size(2e6), [libc, ...base.filter(() => d.rand() < 0.3)]));
  const set = withLanguage({ infos, packages: [...base], apps: [], language: [] }, base, packages, seed, 6);
  set.apps = set.language.slice(Math.floor(set.language.length / 2));
  return set;
}

/**
 * The next revision of the set in which leaf package `main` (nothing refers to it) got a new
 * version: a new store path (hash and version) and a slightly different size.
 */
export function bumped(set: ShapedSet, main: string, seed: number): { set: ShapedSet; main: string } {
  const d = draws(seed);
  const old = set.infos.get(main)!;
  const name = main.slice(main.indexOf("-") + 1).replace(/-(\d+)\.(\d+)$/, (_, major: string, minor: string) => `-${major}.${Number(minor) + 1}`);
  const path = `/nix/store/${d.hash()}-${name}`;
  const infos = new Map(set.infos);
  infos.delete(main);
  const narSize = Math.round(old.narSize * (0.9 + 0.2 * d.rand()));
  infos.set(path, { path, narSize, references: old.references.map((r) => (r === main ? path : r)) });
  const swap = (list: string[]) => list.map((p) => (p === main ? path : p));
  return { set: { infos, packages: swap(set.packages), apps: swap(set.apps), language: swap(set.language) }, main: path };
}

/** Packages nothing else refers to: their version can change alone. */
export function leafPackages(set: ShapedSet): Set<string> {
  const referred = new Set<string>();
  for (const info of set.infos.values()) for (const r of info.references) if (r !== info.path) referred.add(r);
  return new Set(set.packages.filter((p) => !referred.has(p)));
}
