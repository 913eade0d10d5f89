/** nix/meta.nix's answer, checked and turned into SBOM fields by store path. Pure. */
import type { PackageMeta } from "./sbom.ts";

interface RawMeta {
  path?: unknown;
  licenses?: unknown;
  homepage?: unknown;
}

/** An SPDX license id (or LicenseRef) alone; anything else is no assertion. */
const SPDX_ID_RE = /^(LicenseRef-)?[A-Za-z0-9][A-Za-z0-9.+-]*$/;
const URL_RE = /^https?:\/\/[^\s"<>]+$/;

/**
 * Meta by store path. A package's licenses join with AND (nixpkgs lists the licenses that
 * apply together); one without an SPDX id makes the whole declaration unknown.
 */
export function parseMeta(json: unknown): Map<string, PackageMeta> {
  const out = new Map<string, PackageMeta>();
  if (!Array.isArray(json)) return out;
  for (const raw of json as RawMeta[]) {
    if (typeof raw?.path !== "string" || !raw.path.startsWith("/")) continue;
    const meta: PackageMeta = {};
    const ids = Array.isArray(raw.licenses) ? raw.licenses : [];
    if (ids.length && ids.every((id) => typeof id === "string" && SPDX_ID_RE.test(id))) meta.license = [...new Set(ids as string[])].join(" AND ");
    if (typeof raw.homepage === "string" && URL_RE.test(raw.homepage)) meta.homepage = raw.homepage;
    out.set(raw.path, meta);
  }
  return out;
}
