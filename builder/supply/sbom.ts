/**
 * An SPDX 2.3 JSON SBOM of an image's closure, from the graph the builder already read (nix
 * path-info) and the package set's meta. Pure, and deterministic: packages and relations
 * sorted, the creation time fixed, the namespace a hash of the content.
 */
import { createHash } from "node:crypto";
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import type { ClosureGraph, StorePathInfo } from "../nix/graph.ts";
import { storePathName } from "../nix/graph.ts";
import { sha256Hex } from "../nix/hash.ts";

export const SPDX_MEDIA_TYPE = "application/spdx+json";

/** What the package set's meta says of one output path (either may be absent). */
export interface PackageMeta {
  /** An SPDX license expression, e.g. `MIT` or `GPL-3.0-or-later AND MIT`. */
  license?: string;
  homepage?: string;
}

export interface SbomInput {
  graph: ClosureGraph;
  /** Meta by store path (requested packages' outputs, as far as the package set knows). */
  meta?: ReadonlyMap<string, PackageMeta>;
  /** What the document describes, e.g. the image's name. */
  name: string;
  /** ISO time; the image's own fixed creation time. */
  created: string;
  /** `Tool: …` creator line. */
  tool: string;
}

const NOASSERTION = "NOASSERTION";

/** Nix's own split (builtins.parseDrvName): the version starts at the first `-` before a non-letter. */
export function splitName(storeName: string): { name: string; version?: string } {
  const m = /-[^A-Za-z]/.exec(storeName);
  if (!m) return { name: storeName };
  return { name: storeName.slice(0, m.index), version: storeName.slice(m.index + 1) };
}

/** SPDXRef-<hash part>: unique per store path and within SPDX's id grammar. */
export function spdxId(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return `SPDXRef-nix-${base.split("-", 1)[0]!.replace(/[^A-Za-z0-9.]/g, "")}`;
}

export function buildSbom(input: SbomInput): Uint8Array {
  const paths = [...input.graph.paths].sort((a, b) => cmp(a.path, b.path));
  const known = new Set(paths.map((p) => p.path));
  const packages = paths.map((p) => spdxPackage(p, input.meta?.get(p.path)));
  const describes = [...new Set(input.graph.roots)].filter((r) => known.has(r)).sort(cmp);
  const relationships = [
    ...describes.map((r) => relation("SPDXRef-DOCUMENT", "DESCRIBES", spdxId(r))),
    ...paths.flatMap((p) => p.references.filter((r) => r !== p.path && known.has(r)).sort(cmp).map((r) => relation(spdxId(p.path), "DEPENDS_ON", spdxId(r)))),
  ];
  const body = { packages, relationships };
  const namespace = createHash("sha256").update(canonicalJsonBytes({ name: input.name, ...body })).digest("hex");
  return canonicalJsonBytes({
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: input.name,
    // SPDX's advice for tools without a domain of their own; unique per content.
    documentNamespace: `https://spdx.org/spdxdocs/nixport-${namespace}`,
    creationInfo: { created: input.created, creators: [`Tool: ${input.tool}`] },
    documentDescribes: describes.map(spdxId),
    ...body,
  });
}

function spdxPackage(p: StorePathInfo, meta: PackageMeta | undefined): Record<string, unknown> {
  const { name, version } = splitName(storePathName(p.path));
  const hex = p.narHash ? sha256Hex(p.narHash) : null;
  return {
    SPDXID: spdxId(p.path),
    name,
    versionInfo: version,
    // The store path itself: where the package lives in the image.
    packageFileName: p.path,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    checksums: hex ? [{ algorithm: "SHA256", checksumValue: hex }] : undefined,
    licenseConcluded: NOASSERTION,
    licenseDeclared: meta?.license ?? NOASSERTION,
    copyrightText: NOASSERTION,
    homepage: meta?.homepage,
    comment: hex ? "checksum: SHA-256 of the store path's NAR serialisation (Nix narHash)" : undefined,
  };
}

function relation(from: string, type: string, to: string) {
  return { spdxElementId: from, relationshipType: type, relatedSpdxElement: to };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
