/** Range parsing and manifest content negotiation, pure. */
import { describe, expect, it } from "vitest";
import { parseRange } from "../../edge/range.ts";
import { acceptedTypes, DOCKER_MANIFEST, manifestMediaType, OCI_INDEX, OCI_MANIFEST, pickManifest } from "../../edge/routes/media.ts";
import { escapeHtml, renderLanding } from "../../edge/routes/landing.ts";

describe("parseRange (blob of 100 bytes)", () => {
  it.each([
    [undefined, null],
    ["bytes=0-9", { start: 0, end: 9 }],
    ["bytes=10-", { start: 10, end: 99 }],
    ["bytes=-5", { start: 95, end: 99 }],
    ["bytes=-500", { start: 0, end: 99 }],
    ["bytes=90-500", { start: 90, end: 99 }],
    ["bytes=99-99", { start: 99, end: 99 }],
    [" bytes=0-0 ", { start: 0, end: 0 }],
    ["bytes=100-", "unsatisfiable"],
    ["bytes=100-200", "unsatisfiable"],
    ["bytes=-0", "unsatisfiable"],
    ["bytes=5-2", null],
    ["bytes=-", null],
    ["bytes=0-1,5-6", null],
    ["items=0-1", null],
    ["bytes=a-b", null],
    ["bytes=99999999999999999999-", null],
    ["", null],
  ] as const)("%j → %j", (header, want) => {
    expect(parseRange(header, 100)).toEqual(want);
  });
  it("any range of an empty blob is unsatisfiable", () => {
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=-1", 0)).toBe("unsatisfiable");
  });
});

describe("content negotiation", () => {
  const refs = [
    { digest: "sha256:d", mediaType: DOCKER_MANIFEST, size: 1 },
    { digest: "sha256:o", mediaType: OCI_MANIFEST, size: 2 },
  ];
  it.each([
    [undefined, DOCKER_MANIFEST],
    ["", DOCKER_MANIFEST],
    ["*/*", DOCKER_MANIFEST],
    [OCI_MANIFEST, OCI_MANIFEST],
    [`${OCI_MANIFEST}, ${OCI_INDEX}`, OCI_MANIFEST],
    [`${OCI_MANIFEST}, ${DOCKER_MANIFEST}`, DOCKER_MANIFEST],
    [`${DOCKER_MANIFEST};q=0, ${OCI_MANIFEST}`, OCI_MANIFEST],
    [`APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON`, OCI_MANIFEST],
    [DOCKER_MANIFEST, DOCKER_MANIFEST],
  ])("Accept %j → %s", (accept, want) => {
    expect(pickManifest(refs, accept)?.mediaType).toBe(want);
  });
  it("falls back to the only format there is", () => {
    expect(pickManifest([refs[1]!], DOCKER_MANIFEST)?.mediaType).toBe(OCI_MANIFEST);
  });
  it("parses q values and parameters", () => {
    expect([...acceptedTypes("a/b;q=0.5, c/d ; q=0, e/f;charset=x")]).toEqual(["a/b", "e/f"]);
  });
});

describe("manifestMediaType", () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  it.each([
    [{ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: {}, layers: [] }, DOCKER_MANIFEST],
    [{ schemaVersion: 2, config: {}, layers: [] }, OCI_MANIFEST],
    [{ schemaVersion: 2, manifests: [] }, OCI_INDEX],
    [{ schemaVersion: 2, mediaType: "application/octet-stream" }, null],
    [{ architecture: "amd64", rootfs: {} }, null],
    [[1, 2], null],
    ["a string", null],
  ])("%j → %s", (doc, want) => {
    expect(manifestMediaType(enc(doc))).toBe(want);
  });
  it("a binary layer is not a manifest", () => {
    expect(manifestMediaType(new Uint8Array([0x1f, 0x8b, 0xff, 0xfe]))).toBeNull();
  });
});

describe("landing page escaping", () => {
  it("escapes every interpolated value", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const html = renderLanding({
      host: "<h>",
      source: "<s>",
      revision: "<r>",
      recent: [{ image: "<i>", at: 0, error: "<e>" }, { image: "ok", at: 0, digest: "<d>" }],
      cacheKey: "<k>",
    });
    expect(html).not.toMatch(/<(h|s|r|i|e|d|k)>/);
    for (const v of ["&lt;h&gt;", "&lt;s&gt;", "&lt;r&gt;", "&lt;i&gt;", "&lt;e&gt;", "&lt;d&gt;", "&lt;k&gt;"]) expect(html).toContain(v);
  });
});
