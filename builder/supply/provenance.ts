/**
 * An in-toto Statement v1 with a SLSA provenance v1 predicate for one image. Pure and
 * deterministic: no start or finish times, no invocation id (the same image gives the same bytes).
 */
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import { digestHex } from "../image/digest.ts";

export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
export const BUILD_TYPE = "urn:nixport:build-type:image:v1";

export interface ProvenanceInput {
  /** The image's name (canonical, as a pull writes it). */
  name: string;
  /** The image's manifest digests, one per format written. */
  subjects: readonly string[];
  builderId: string;
  /** Where the package set came from, as clients may see it (no credentials, no host path). */
  source: { description: string; revision: string };
  /** The requested packages, as attribute paths, and what shaped the image besides them. */
  packages: readonly string[];
  arch: string;
  user?: string;
  settings?: unknown;
  /** Derivations that produced the requested outputs (store paths of .drv files). */
  derivations: readonly string[];
  /** The builder's own knobs that shape the bytes (layer budget, format version). */
  internal: Record<string, unknown>;
}

const COMMIT_RE = /^[0-9a-f]{40}$/;

export function buildProvenance(input: ProvenanceInput): Uint8Array {
  const { description, revision } = input.source;
  const source = { uri: sourceURI(description), ...(COMMIT_RE.test(revision) ? { digest: { gitCommit: revision } } : { annotations: { revision } }) };
  return canonicalJsonBytes({
    _type: "https://in-toto.io/Statement/v1",
    subject: [...new Set(input.subjects)].sort().map((d) => ({ name: input.name, digest: { sha256: digestHex(d) } })),
    predicateType: "https://slsa.dev/provenance/v1",
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { packages: input.packages, arch: input.arch, source: { description, revision }, user: input.user, settings: input.settings },
        internalParameters: input.internal,
        resolvedDependencies: [source, ...[...new Set(input.derivations)].sort().map((d) => ({ uri: `nix:${d}`, name: d.slice(d.lastIndexOf("/") + 1) }))],
      },
      runDetails: { builder: { id: input.builderId } },
    },
  });
}

/** `git https://…` → `git+https://…`; a channel or a path keeps its description under a nixport URN. */
function sourceURI(description: string): string {
  const [kind, ...rest] = description.split(" ");
  const where = rest.join(" ");
  if (kind === "git" && /^[a-z][a-z0-9+.-]*:/.test(where)) return `git+${where}`;
  return `urn:nixport:source:${encodeURIComponent(description)}`;
}
