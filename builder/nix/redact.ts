/**
 * Host details never reach a client: a host path in a message becomes a placeholder, a URL
 * loses its userinfo (`https://user:token@host/…`), a tool's stderr stays in the builder's log.
 */

/** Replaces each host path (longest first, so nested paths win) with its placeholder. */
export function hidePaths(text: string, paths: ReadonlyMap<string, string>): string {
  const byLength = [...paths].filter(([p]) => p.length > 1).sort(([a], [b]) => b.length - a.length);
  let out = text;
  for (const [path, placeholder] of byLength) out = out.split(path.replace(/\/+$/, "")).join(placeholder);
  return out;
}

/** A URL as clients may see it: without user, password, query or fragment; other strings unchanged. */
export function publicUrl(url: string): string {
  // scp-like git addresses (user@host:path) carry a user name too.
  const scp = /^[^/@:]+@([^/:]+):(.*)$/.exec(url);
  if (scp) return `${scp[1]}:${scp[2]}`;
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return url;
  }
}
