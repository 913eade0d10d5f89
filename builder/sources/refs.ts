/**
 * The refs of a package-set repository the operator allows (NIXPORT_PKGS_REFS): branches and
 * tags by default. On GitHub anyone can make a commit the remote serves (every pull request
 * has refs/pull/N/head), so a commit is served only when an allowed ref reaches it.
 */

/** A ref pattern: a full ref name, with at most one `*` (any characters, `/` included). */
const PATTERN_RE = /^refs\/[A-Za-z0-9._\/-]*(\*[A-Za-z0-9._\/-]*)?$/;

export class RefPatterns {
  private readonly res: RegExp[];
  constructor(readonly patterns: readonly string[]) {
    for (const p of patterns) {
      if (!PATTERN_RE.test(p) || p.includes("..") || p.includes("//")) throw new Error(`not a ref pattern (refs/…, at most one *): ${JSON.stringify(p)}`);
    }
    if (!patterns.length) throw new Error("no allowed refs: name at least one ref pattern, e.g. refs/heads/*");
    this.res = patterns.map((p) => new RegExp(`^${p.split("*").map(escapeRe).join(".*")}$`));
  }

  allows(ref: string): boolean {
    return this.res.some((re) => re.test(ref));
  }

  /** The refs a branch or tag name may stand for, in the order they are preferred. */
  candidates(name: string): string[] {
    return [`refs/heads/${name}`, `refs/tags/${name}`].filter((r) => this.allows(r));
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
}
