/**
 * GET / — what this registry is and how to use it. Everything interpolated (including the
 * Host header a client sent) goes through escapeHtml.
 */
import type { Context } from "hono";
import type { RouteContext } from "./context.ts";
import type { RecentBuild } from "../recent.ts";

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

const EXAMPLES: [string, string][] = [
  ["shell", "bash, coreutils, moreutils and nano"],
  ["shell/git/htop", "a shell with git and htop"],
  ["arm64/shell/curl", "the same for arm64"],
  ["python3packages.requests", "nested attributes are selected with dots"],
  ["shell/hello:nixos-24.05", "the tag picks the package source (a channel, branch or commit)"],
];

export function landingHandler(c: Context, rc: RouteContext): Response {
  const host = (c.req.header("host") ?? "registry.example.com").slice(0, 255);
  const html = renderLanding({
    host,
    source: rc.config.source,
    revision: rc.recent.lastRevision(),
    recent: rc.recent.list(),
  });
  return new Response(html, {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" },
  });
}

export interface LandingData {
  host: string;
  source: string;
  revision: string | undefined;
  recent: readonly RecentBuild[];
}

export function renderLanding(d: LandingData): string {
  const h = escapeHtml(d.host);
  const examples = EXAMPLES.map(
    ([name, what]) => `<li><code>docker pull ${h}/${escapeHtml(name)}</code> — ${escapeHtml(what)}</li>`,
  ).join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>nixport — ${h}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>nixport</h1>
<p>A container registry that builds images on demand from Nix packages. Name the packages
in the image path; the image holds them with their whole runtime closure, built the first
time anyone asks and served from cache after that.</p>
<h2>Pull</h2>
<pre>docker pull ${h}/shell/git/htop</pre>
<ul>
${examples}
</ul>
<p>Each path component is a package attribute; <code>shell</code> adds an interactive
shell toolset; a leading <code>arm64/</code> selects the architecture. Order and repetition
of components do not change the image.</p>
<h2>Package source</h2>
<p>${escapeHtml(d.source)}${d.revision ? `, revision <code>${escapeHtml(d.revision)}</code>` : ""}</p>
<h2>Recent builds</h2>
${renderRecent(d.recent)}
</body>
</html>
`;
}

function renderRecent(recent: readonly RecentBuild[]): string {
  if (recent.length === 0) return "<p>None yet.</p>";
  const rows = recent.map((b) => {
    const when = new Date(b.at).toISOString();
    const outcome = b.error ? `failed: ${escapeHtml(b.error)}` : `<code>${escapeHtml(b.digest ?? "")}</code>`;
    return `<tr><td><code>${escapeHtml(b.image)}</code></td><td>${escapeHtml(when)}</td><td>${outcome}</td></tr>`;
  });
  return `<table>\n<tr><th>image</th><th>when</th><th>result</th></tr>\n${rows.join("\n")}\n</table>`;
}
