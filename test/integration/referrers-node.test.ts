import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skopeo } from "../support/clients.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";
import { IN_TOTO, referrersRows, runReferrersRow, SPDX, type ReferrersFixture } from "../edge/referrers-table.ts";

// The referrers API of the all-in-one server (Node edge, filesystem store) over what a real
// build wrote; then registry clients fetch the artifacts by digest.
let registry: RunningRegistry;
let fixture: ReferrersFixture;
const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";
const OCI = "application/vnd.oci.image.manifest.v1+json";

async function manifestDigest(accept: string): Promise<string> {
  const res = await fetch(`${registry.url}/v2/hello/manifests/latest`, { headers: { Accept: accept } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("docker-content-digest")!;
}

beforeAll(async () => {
  registry = await startRegistry();
  const oci = await manifestDigest(OCI);
  const docker = await manifestDigest(DOCKER);
  expect(docker).not.toBe(oci);
  // What the builder stored for the OCI manifest, read from the store itself.
  const record = JSON.parse(readFileSync(join(registry.dataDir, "referrers", `${oci.slice(7)}.json`), "utf8")) as { manifests: { digest: string; artifactType: string }[] };
  const artifacts = Object.fromEntries(record.manifests.map((m) => [m.artifactType, m.digest]));
  const sbomManifest = JSON.parse(readFileSync(join(registry.dataDir, "blobs/sha256", artifacts[SPDX]!.slice(7)), "utf8")) as { layers: { digest: string }[] };
  fixture = { name: "hello", subjects: [oci, docker], artifacts, sbomBlob: sbomManifest.layers[0]!.digest };
}, 180_000);
afterAll(() => registry?.stop());

describe("referrers on the Node edge", () => {
  it.each(referrersRows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    expect(await runReferrersRow((path, init) => fetch(`${registry.url}${path}`, init), row, fixture)).toEqual([]);
  });
});

describe("registry clients fetch the artifacts by digest", () => {
  it("skopeo inspect --raw gives each artifact manifest's bytes", async () => {
    for (const type of [SPDX, IN_TOTO]) {
      const digest = fixture.artifacts[type]!;
      const r = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${registry.host}/hello@${digest}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(join(registry.dataDir, "blobs/sha256", digest.slice(7)), "utf8"));
      expect(JSON.parse(r.stdout)).toMatchObject({ artifactType: type, subject: { digest: fixture.subjects[0] } });
    }
  });

  it("skopeo copies the SBOM artifact to a dir: with the SBOM as its layer", async () => {
    const dest = mkdtempSync(join(tmpdir(), "nixport-sbom-copy-"));
    const r = await skopeo(["copy", "--src-tls-verify=false", `docker://${registry.host}/hello@${fixture.artifacts[SPDX]}`, `dir:${dest}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dest)).toContain(fixture.sbomBlob.slice(7));
    const sbom = JSON.parse(readFileSync(join(dest, fixture.sbomBlob.slice(7)), "utf8")) as { spdxVersion: string; packages: { name: string }[] };
    expect(sbom.spdxVersion).toBe("SPDX-2.3");
    expect(sbom.packages.map((p) => p.name)).toContain("hello");
  });
});
