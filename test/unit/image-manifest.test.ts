import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildManifest, type ManifestInput } from "../../builder/image/manifest.ts";
import { compressionOf, layerMediaType, MEDIA_TYPES } from "../../builder/image/media-types.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const gz = MEDIA_TYPES.oci.layer.gzip!;
const zst = MEDIA_TYPES.oci.layer.zstd!;
const config = { digest: d("c"), size: 321 };
const layers = [
  { digest: d("1"), size: 100, mediaType: gz },
  { digest: d("2"), size: 200, mediaType: gz },
];
const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe("buildManifest", () => {
  it.each([
    ["docker", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"],
    ["oci", "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"],
  ] as const)("%s manifest shape", (format, manifestType, configType, layerType) => {
    const m = buildManifest({ format, config, layers });
    expect(m.mediaType).toBe(manifestType);
    expect(parse(m.bytes)).toEqual({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: configType, digest: d("c"), size: 321 },
      layers: layers.map((l) => ({ mediaType: layerType, digest: l.digest, size: l.size })),
    });
    expect(m.digest).toBe(`sha256:${createHash("sha256").update(m.bytes).digest("hex")}`);
    expect(m.size).toBe(m.bytes.length);
  });

  it("accepts Docker layer media types too (from an older layer cache)", () => {
    const docker = layers.map((l) => ({ ...l, mediaType: MEDIA_TYPES.docker.layer.gzip! }));
    expect(buildManifest({ format: "oci", config, layers: docker }).digest).toBe(buildManifest({ format: "oci", config, layers }).digest);
  });

  it("puts zstd layers in OCI manifests", () => {
    const m = buildManifest({ format: "oci", config, layers: [{ ...layers[0]!, mediaType: zst }] });
    expect(parse(m.bytes).layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
  });

  it("refuses zstd layers in a Docker manifest", () => {
    const input: ManifestInput = { format: "docker", config, layers: [layers[0]!, { ...layers[1]!, mediaType: zst }] };
    expect(() => buildManifest(input)).toThrow(/zstd.*docker/);
    expect(() => layerMediaType("docker", "zstd")).toThrow();
  });

  it("refuses an unknown layer media type", () => {
    expect(() => buildManifest({ format: "oci", config, layers: [{ ...layers[0]!, mediaType: "application/x-tar" }] })).toThrow();
    expect(() => compressionOf("application/vnd.oci.image.layer.v1.tar")).toThrow();
  });

  it("is deterministic; layer order matters, format matters", () => {
    const a = buildManifest({ format: "oci", config, layers });
    expect(buildManifest({ format: "oci", config: { ...config }, layers: layers.map((l) => ({ ...l })) }).bytes).toEqual(a.bytes);
    expect(buildManifest({ format: "oci", config, layers: [...layers].reverse() }).digest).not.toBe(a.digest);
    expect(buildManifest({ format: "docker", config, layers }).digest).not.toBe(a.digest);
  });
});
