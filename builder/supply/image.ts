/** What one built image's SBOM and provenance are made from, gathered from the build. Pure. */
import { imageName } from "../../common/names.ts";
import type { ImageSpec } from "../service/types.ts";
import type { ClosureGraph } from "../nix/graph.ts";
import type { Subject } from "./artifacts.ts";
import type { PackageMeta } from "./sbom.ts";
import { DEFAULT_BUILDER_ID, type SupplyChainInput } from "./write.ts";

export interface BuiltImage {
  /** Resolved attribute paths, sorted. */
  packages: string[];
  manifests: readonly Subject[];
  graph: ClosureGraph;
  meta: ReadonlyMap<string, PackageMeta>;
}

export interface BuildContext {
  builderId?: string;
  /** The package source as clients may see it, and the revision built. */
  source: { description: string; revision: string };
  created: string;
  tool: string;
  /** The builder's own knobs that shape the bytes. */
  internal: Record<string, unknown>;
}

export function imageSupplyInput(spec: ImageSpec, image: BuiltImage, ctx: BuildContext): SupplyChainInput {
  const roots = new Set(image.graph.roots);
  const derivations = image.graph.paths.flatMap((p) => (roots.has(p.path) && p.deriver ? [p.deriver] : []));
  const user = spec.user && spec.user !== "root" ? { user: spec.user } : {};
  return {
    manifests: image.manifests,
    graph: image.graph,
    meta: image.meta,
    created: ctx.created,
    tool: ctx.tool,
    provenance: {
      name: imageName({ arch: spec.arch, packages: image.packages, ...user }) ?? image.packages.join(" "),
      builderId: ctx.builderId ?? DEFAULT_BUILDER_ID,
      source: ctx.source,
      packages: image.packages,
      arch: spec.arch,
      ...user,
      ...(spec.settings && Object.keys(spec.settings).length ? { settings: spec.settings } : {}),
      derivations,
      internal: ctx.internal,
    },
  };
}
