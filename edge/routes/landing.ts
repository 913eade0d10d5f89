/**
 * GET / — what this registry is and how to use it. Everything interpolated (including the
 * Host header a client sent) goes through escapeHtml; the Content-Security-Policy allows no
 * script, image or request at all, so even a slip in escaping could not run anything.
 */
import type { Context } from "hono";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import type { RouteContext } from "./context.ts";
import type { RecentBuild } from "../recent.ts";
import { cachePublicKey } from "./nix-cache.ts";

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

/** Inline styles only: the page loads nothing else. Light and dark follow the reader's setting. */
const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa;
  --line: #d1d9e0; --accent: #5277c3; --ok: #1a7f37; --bad: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117;
  --panel: #151b23; --line: #3d444d; --accent: #7ea7f5; --ok: #3fb950; --bad: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 56rem; padding: 2.5rem 1.25rem 4rem; color: var(--fg);
  background: var(--bg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 1rem; }
h1 { margin: 0; font-size: 2.1rem; letter-spacing: -0.02em; }
h1 span { color: var(--accent); }
.lead { margin: .5rem 0 0; color: var(--muted); font-size: 1.05rem; }
h2 { margin: 2.25rem 0 .75rem; font-size: 1.2rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
code { overflow-wrap: anywhere; }
pre { margin: 0 0 1rem; padding: .9rem 1rem; overflow-x: auto; background: var(--panel);
  border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px; font-size: .95rem; }
ul.examples { margin: 0; padding: 0; list-style: none; border: 1px solid var(--line); border-radius: 6px; }
ul.examples li { padding: .55rem .9rem; border-top: 1px solid var(--line); }
ul.examples li:first-child { border-top: 0; }
ul.examples span { display: block; color: var(--muted); font-size: .92rem; }
.note { color: var(--muted); }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { padding: .5rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.when { white-space: nowrap; color: var(--muted); }
.ok { color: var(--ok); font-weight: 600; }
.failed { color: var(--bad); overflow-wrap: anywhere; }
footer { margin-top: 3rem; color: var(--muted); font-size: .88rem; }
@media (max-width: 40rem) {
  body { padding-top: 1.5rem; }
  tr:first-child { display: none; }
  tr, td { display: block; }
  tr { padding: .5rem 0; border-bottom: 1px solid var(--line); }
  td { padding: .1rem 0; border: 0; }
}
`;

/** Nothing may load or run: the page is text and inline styles. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function landingHandler(c: Context, rc: RouteContext): Promise<Response> {
  const host = (c.req.header("host") ?? "registry.example.com").slice(0, 255);
  // The page stays up when storage does not answer; it just shows no key then.
  const cacheKey = await cachePublicKey(rc).catch(() => null);
  const html = renderLanding({
    host,
    cacheKey,
    scheme: new URL(c.req.url).protocol === "https:" ? "https" : "http",
    source: rc.config.source,
    revision: rc.recent.lastRevision(),
    recent: rc.recent.list(),
  });
  return new Response(html, {
    status: 200,
    headers: {
      [API_VERSION_HEADER]: API_VERSION,
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      "Content-Security-Policy": CSP,
      "X-Content-Type-Options": "nosniff",
    },
  });
}

export interface LandingData {
  host: string;
  source: string;
  revision: string | undefined;
  recent: readonly RecentBuild[];
  /** The binary cache's public key, once a builder has written one. */
  cacheKey?: string | null;
  /** How the page was reached, for the substituter URL shown (default https). */
  scheme?: "http" | "https";
}

export function renderLanding(d: LandingData): string {
  const h = escapeHtml(d.host);
  const examples = EXAMPLES.map(
    ([name, what]) => `<li><code>docker pull ${h}/${escapeHtml(name)}</code><span>${escapeHtml(what)}</span></li>`,
  ).join("\n");
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>nixport — ${h}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body>
<header>
<h1><span>nix</span>port</h1>
<p class="lead">A container registry that builds images on demand from Nix packages. Name the
packages in the image path; the image holds them with their whole runtime closure, built the
first time anyone asks and served from cache after that.</p>
</header>
<h2>Pull</h2>
<pre>docker pull ${h}/shell/git/htop</pre>
<ul class="examples">
${examples}
</ul>
<p class="note">Each path component is a package attribute; <code>shell</code> adds an interactive
shell toolset; a leading <code>arm64/</code> selects the architecture, <code>nonroot/</code> an image
that runs as the user nonroot (65532) with its own home. Order and repetition
of components do not change the image. podman, skopeo and containerd pull the same names.</p>
<h2>Package source</h2>
<p>${escapeHtml(d.source)}${d.revision ? `, revision <code>${escapeHtml(d.revision)}</code>` : ""}</p>
${renderCache(`${d.scheme ?? "https"}://${h}`, d.cacheKey)}
<h2>Recent builds</h2>
${renderRecent(d.recent)}
<footer>The OCI distribution API (pull) is at <code>/v2/</code>.</footer>
</body>
</html>
`;
}

/** How Nix uses this registry as a binary cache: every store path of every image built. */
function renderCache(origin: string, key: string | null | undefined): string {
  if (!key) return "";
  const k = escapeHtml(key);
  return `<h2>Nix binary cache</h2>
<p>Every store path of every image built here is also a signed Nix binary cache entry. Public key
(also at <code>/nix-cache-public-key</code>):</p>
<pre>${k}</pre>
<pre>nix-store -r /nix/store/… --option substituters ${origin} --option trusted-public-keys ${k}</pre>`;
}

/** 2026-01-02 03:04:05 UTC: shorter than ISO 8601 with milliseconds, still unambiguous. */
function formatTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function renderRecent(recent: readonly RecentBuild[]): string {
  if (recent.length === 0) return `<p class="note">None yet.</p>`;
  const rows = recent.map((b) => {
    const outcome = b.error
      ? `<span class="failed">failed: ${escapeHtml(b.error)}</span>`
      : `<span class="ok">built</span> <code>${escapeHtml(b.digest ?? "")}</code>`;
    return `<tr><td><code>${escapeHtml(b.image)}</code></td><td class="when">${escapeHtml(formatTime(b.at))}</td><td>${outcome}</td></tr>`;
  });
  return `<table>\n<tr><th>image</th><th>when</th><th>result</th></tr>\n${rows.join("\n")}\n</table>`;
}
