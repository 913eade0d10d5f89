/**
 * The landing page as a browser sees it: the Node edge serves `/` after real pulls (a build,
 * a failed build, unknown packages) and hostile entries, headless Chromium loads it, and the
 * DOM it built after running the page is checked. Injected markup must arrive as text: the
 * payloads below set `data-pwned` on <body> if they ever run.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdge, type EdgeApp } from "../../edge/app.ts";
import { MemoryBuilder } from "../edge/memory-builder.ts";
import { MemoryTagCache } from "../../edge/cache.ts";
import { listen, type RunningEdge } from "../../edge/node/app.ts";
import { dumpDom, hasChromium } from "../support/chromium.ts";

const SOURCE = "nixpkgs, nixos-unstable";
// As a client (or a proxy forwarding one) may send it; Node's HTTP parser lets it through.
const HOSTILE_HOST = `reg.example"><img src=x onerror="document.body.dataset.pwned='host'"><script>document.body.dataset.pwned='host-script'</script>`;
const HOSTILE_IMAGE = `amd64/<script>document.body.dataset.pwned='image'</script>:latest`;
const HOSTILE_ERROR = `UNAVAILABLE: the builder is unavailable: <img src=x onerror="document.body.dataset.pwned='error'">`;

/** How the serialised DOM spells a text node holding s (attributes are not involved here). */
const asText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

let edge: EdgeApp;
let server: RunningEdge;

beforeAll(async () => {
  const builder = new MemoryBuilder({
    packages: ["git", "htop", "hello", "broken"],
    failing: { broken: { derivation: "/nix/store/0000-broken-1.0.drv", logTail: "error: broken on purpose" } },
  });
  edge = createEdge({ blobs: builder.store, builder, tagCache: new MemoryTagCache(), config: { source: SOURCE } });
  // In front of the edge, the Host header every request arrives with is the hostile one.
  const front = new Hono();
  front.all("*", (c) => {
    const headers = new Headers(c.req.raw.headers);
    headers.set("host", HOSTILE_HOST);
    return edge.app.fetch(new Request(c.req.url, { method: c.req.method, headers }));
  });
  server = await listen(front);
  // Real pulls fill "recent builds": one image built, one failed build, one unknown package.
  for (const [name, status] of [["git/htop", 200], ["broken", 500], ["hello/nosuchpkg", 404]] as const) {
    const res = await fetch(`${server.url}/v2/${name}/manifests/latest`);
    expect(res.status, name).toBe(status);
  }
  // What only a misbehaving builder or proxy could put there: markup in the name and the error.
  edge.recent.record({ image: HOSTILE_IMAGE, at: Date.UTC(2026, 0, 2, 3, 4, 5), error: HOSTILE_ERROR });
});

afterAll(async () => {
  await server?.close();
});

const SUITE = hasChromium()
  ? "landing page in headless Chromium"
  : "landing page in headless Chromium (SKIPPED: /usr/bin/chromium is not installed; apt-get install -y chromium)";

describe.skipIf(!hasChromium())(SUITE, () => {
  it("the payloads used below do run when not escaped (so the check can fail)", async () => {
    const raw = `<!doctype html><body><p>${HOSTILE_HOST}</p><p>${HOSTILE_ERROR}</p></body>`;
    const dom = await dumpDom(`data:text/html;base64,${Buffer.from(raw).toString("base64")}`);
    expect(dom).toMatch(/data-pwned=/);
  });

  it("shows how to pull, examples, the package source and recent builds, with every injection as text", async () => {
    const dom = await dumpDom(`${server.url}/`);
    // Nothing injected became an element or ran.
    expect(dom).not.toMatch(/data-pwned/);
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    // How to pull, with the host the client used, shown as the text it was.
    const host = asText(HOSTILE_HOST);
    expect(dom).toContain(`docker pull ${host}/shell/git/htop`);
    for (const example of ["shell", "arm64/shell/curl", "python3packages.requests", "shell/hello:nixos-24.05"]) {
      expect(dom).toContain(`docker pull ${host}/${example}</code>`);
    }
    expect(dom).toContain(SOURCE);
    // The revision the last build reported goes with the source.
    expect(dom).toContain("latest-r1");
    // Recent builds: the build with its digest, the failures with their codes, the hostile entry as text.
    const built = await fetch(`${server.url}/v2/git/htop/manifests/latest`);
    expect(dom).toContain(built.headers.get("docker-content-digest"));
    expect(dom).toContain("amd64/git/htop:latest");
    expect(dom).toMatch(/amd64\/broken:latest.*BUILD_FAILED/s);
    expect(dom).toMatch(/amd64\/hello\/nosuchpkg:latest.*MANIFEST_UNKNOWN: unknown packages: nosuchpkg/s);
    expect(dom).toContain(asText(HOSTILE_IMAGE));
    expect(dom).toContain(asText(HOSTILE_ERROR));
    expect(dom).toContain("2026-01-02 03:04:05 UTC");
  });
});
