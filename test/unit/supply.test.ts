import { describe, expect, it } from "vitest";
import { fromNixBase32, sha256Hex } from "../../builder/nix/hash.ts";
import { artifactManifest, documentBlob, EMPTY_DESCRIPTOR } from "../../builder/supply/artifacts.ts";
import { parseMeta } from "../../builder/supply/meta.ts";
import { buildProvenance, IN_TOTO_MEDIA_TYPE } from "../../builder/supply/provenance.ts";
import { buildSbom, spdxId, splitName, SPDX_MEDIA_TYPE } from "../../builder/supply/sbom.ts";
import type { ClosureGraph } from "../../builder/nix/graph.ts";

// Vectors from Nix itself: nix path-info's narHash, and nix-hash --to-base32 of its hex.
const HEX = "17f80c36a1182b49c0899d6d9dcf0f8af36224a1cfc1e8e5b6e906118b8ce269";
const SRI = "sha256-F/gMNqEYK0nAiZ1tnc8PivNiJKHPwejltukGEYuM4mk=";
const B32 = "0sg2ij5i21p9nvjyihfgl4j65wwa1z7rsvcxi704jaqql4v0ry0p";

const hello = "/nix/store/433dl96qrgxi57d73gwi11dpa3h1h8nn-hello-2.12.1";
const glibc = "/nix/store/xpc4rpkisxzwg0a4mfspm40hlwq4yjnm-glibc-2.39-52";
const tz = "/nix/store/b4qi958nzs6348mdgxpywqfabqkhb7r9-tzdata";
const graph: ClosureGraph = {
  roots: [hello],
  paths: [
    { path: hello, narSize: 10, references: [glibc, hello], narHash: SRI, deriver: "/nix/store/si9g15436s4win31r43xjrsgn9ymh16x-hello-2.12.1.drv" },
    { path: tz, narSize: 5, references: [], narHash: `sha256:${B32}` },
    { path: glibc, narSize: 20, references: [glibc], narHash: `sha256:${HEX}` },
  ],
};
const meta = new Map([[hello, { license: "GPL-3.0-or-later", homepage: "https://www.gnu.org/software/hello/" }]]);
const sbomOf = (g: ClosureGraph) => JSON.parse(Buffer.from(buildSbom({ graph: g, meta, name: "hello", created: "1970-01-01T00:00:01Z", tool: "nixport" })).toString());

describe("Nix hashes as hex", () => {
  it.each([
    [SRI, HEX],
    [`sha256:${B32}`, HEX],
    [`sha256:${HEX}`, HEX],
    ["sha256-short", null],
    [`sha256:${B32.slice(1)}`, null],
    [`sha256:${B32.replace("0", "e")}`, null], // e is not in Nix's alphabet
    [`sha1:${HEX}`, null],
  ])("%s", (hash, hex) => expect(sha256Hex(hash)).toBe(hex));

  it("refuses base32 with bits past the hash's end", () => expect(fromNixBase32(`z${B32.slice(1)}`)).toBeNull());
});

describe("store-path names", () => {
  it.each([
    ["hello-2.12.1", "hello", "2.12.1"],
    ["glibc-2.39-52", "glibc", "2.39-52"],
    ["python3.11-requests-2.31.0", "python3.11-requests", "2.31.0"],
    ["openssl-3.0.14-dev", "openssl", "3.0.14-dev"],
    ["tzdata", "tzdata", undefined],
    ["nss-cacert-3.101", "nss-cacert", "3.101"],
  ])("%s", (storeName, name, version) => expect(splitName(storeName)).toEqual(version === undefined ? { name } : { name, version }));
});

describe("SPDX SBOM", () => {
  it("has every store path as a package with its NAR hash, meta and dependencies", () => {
    const doc = sbomOf(graph);
    expect(doc.spdxVersion).toBe("SPDX-2.3");
    expect(doc.creationInfo.created).toBe("1970-01-01T00:00:01Z");
    expect(doc.packages.map((p: { packageFileName: string }) => p.packageFileName).sort()).toEqual([hello, glibc, tz].sort());
    const h = doc.packages.find((p: { name: string }) => p.name === "hello");
    expect(h).toMatchObject({ SPDXID: spdxId(hello), versionInfo: "2.12.1", licenseDeclared: "GPL-3.0-or-later", homepage: "https://www.gnu.org/software/hello/" });
    expect(h.checksums).toEqual([{ algorithm: "SHA256", checksumValue: HEX }]);
    const g = doc.packages.find((p: { name: string }) => p.name === "glibc");
    expect(g).toMatchObject({ licenseDeclared: "NOASSERTION", versionInfo: "2.39-52" });
    expect(g.homepage).toBeUndefined();
    expect(doc.documentDescribes).toEqual([spdxId(hello)]);
    expect(doc.relationships).toEqual([
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: spdxId(hello) },
      { spdxElementId: spdxId(hello), relationshipType: "DEPENDS_ON", relatedSpdxElement: spdxId(glibc) },
    ]);
    for (const p of doc.packages) expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
  });

  it("gives the same bytes whatever order the graph lists paths in, and another namespace for other content", () => {
    const reversed = { ...graph, paths: [...graph.paths].reverse() };
    const a = buildSbom({ graph, meta, name: "hello", created: "x", tool: "t" });
    expect(Buffer.from(buildSbom({ graph: reversed, meta, name: "hello", created: "x", tool: "t" })).equals(Buffer.from(a))).toBe(true);
    const fewer = { ...graph, paths: graph.paths.slice(0, 2) };
    expect(sbomOf(fewer).documentNamespace).not.toBe(sbomOf(graph).documentNamespace);
  });
});

describe("provenance", () => {
  const input = {
    name: "hello",
    subjects: [`sha256:${"b".repeat(64)}`, `sha256:${"a".repeat(64)}`],
    builderId: "urn:nixport:builder",
    source: { description: "git https://example.test/pkgs.git", revision: "c".repeat(40) },
    packages: ["hello"],
    arch: "amd64",
    derivations: ["/nix/store/si9g15436s4win31r43xjrsgn9ymh16x-hello-2.12.1.drv"],
    internal: { formatVersion: "v" },
  };

  it("is an in-toto statement with a SLSA v1 predicate naming subjects, source and derivations", () => {
    const st = JSON.parse(Buffer.from(buildProvenance(input)).toString());
    expect(st._type).toBe("https://in-toto.io/Statement/v1");
    expect(st.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(st.subject).toEqual([
      { name: "hello", digest: { sha256: "a".repeat(64) } },
      { name: "hello", digest: { sha256: "b".repeat(64) } },
    ]);
    expect(st.predicate.runDetails.builder.id).toBe("urn:nixport:builder");
    expect(st.predicate.buildDefinition.externalParameters.packages).toEqual(["hello"]);
    expect(st.predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: "git+https://example.test/pkgs.git", digest: { gitCommit: "c".repeat(40) } },
      { uri: "nix:/nix/store/si9g15436s4win31r43xjrsgn9ymh16x-hello-2.12.1.drv", name: "si9g15436s4win31r43xjrsgn9ymh16x-hello-2.12.1.drv" },
    ]);
  });

  it("names a path source's revision without a commit digest", () => {
    const st = JSON.parse(Buffer.from(buildProvenance({ ...input, source: { description: "path testpkgs", revision: "latest" } })).toString());
    expect(st.predicate.buildDefinition.resolvedDependencies[0]).toEqual({ uri: "urn:nixport:source:path%20testpkgs", annotations: { revision: "latest" } });
  });
});

describe("artifact manifests", () => {
  it("have the empty config, the document as their one layer, and the image manifest as subject", () => {
    expect(EMPTY_DESCRIPTOR).toEqual({ mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2 });
    const doc = documentBlob(new TextEncoder().encode("{}\n"), SPDX_MEDIA_TYPE);
    const subject = { digest: `sha256:${"d".repeat(64)}`, mediaType: "application/vnd.docker.distribution.manifest.v2+json", size: 500 };
    const { manifest, descriptor } = artifactManifest(doc, subject, { "org.opencontainers.image.created": "x" });
    const m = JSON.parse(Buffer.from(manifest.bytes).toString());
    expect(m).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: SPDX_MEDIA_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: SPDX_MEDIA_TYPE, digest: doc.digest, size: 3 }],
      subject,
      annotations: { "org.opencontainers.image.created": "x" },
    });
    expect(descriptor).toEqual({ mediaType: m.mediaType, digest: manifest.digest, size: manifest.size, artifactType: SPDX_MEDIA_TYPE, annotations: m.annotations });
    expect(IN_TOTO_MEDIA_TYPE).toBe("application/vnd.in-toto+json");
  });
});

describe("meta from nix/meta.nix", () => {
  it("joins SPDX ids, drops what is not one, keeps http(s) homepages", () => {
    const m = parseMeta([
      { path: hello, licenses: ["GPL-2.0-only", "LGPL-2.1-or-later"], homepage: "https://git-scm.com/" },
      { path: glibc, licenses: ["GPL-2.0-only", null], homepage: "javascript:alert(1)" },
      { path: tz, licenses: ["not an id"], homepage: null },
      { path: "relative", licenses: ["MIT"] },
    ]);
    expect([...m.entries()]).toEqual([
      [hello, { license: "GPL-2.0-only AND LGPL-2.1-or-later", homepage: "https://git-scm.com/" }],
      [glibc, {}],
      [tz, {}],
    ]);
    expect(parseMeta({}).size).toBe(0);
  });
});
