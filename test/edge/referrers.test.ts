/**
 * The referrers table inside workerd: the Worker entry over R2, seeded with artifacts and
 * referrers records laid out as the builder writes them (common/storage/layout.ts).
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalJsonBytes } from "../../common/canonical-json.ts";
import { blobKey, referrersRecordKey, type ReferrerDescriptor } from "../../common/storage/layout.ts";
import { IN_TOTO, referrersRows, runReferrersRow, SPDX, type ReferrersFixture } from "./referrers-table.ts";

const OCI = "application/vnd.oci.image.manifest.v1+json";
const DOCKER = "application/vnd.docker.distribution.manifest.v2+json";
const EMPTY = new TextEncoder().encode("{}");
const json = (value: unknown) => canonicalJsonBytes(value) as Uint8Array<ArrayBuffer>;

async function put(bytes: Uint8Array<ArrayBuffer>): Promise<{ digest: string; size: number }> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const digest = `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  await env.BLOBS.put(blobKey(digest), bytes);
  return { digest, size: bytes.byteLength };
}

/** One image in two formats, each with an SBOM and a provenance artifact. */
async function seed(): Promise<ReferrersFixture> {
  const empty = { mediaType: "application/vnd.oci.empty.v1+json", ...(await put(EMPTY)) };
  const docs = {
    [SPDX]: await put(json({ spdxVersion: "SPDX-2.3", name: "workerd" })),
    [IN_TOTO]: await put(json({ _type: "https://in-toto.io/Statement/v1" })),
  };
  const subjects = [
    { mediaType: OCI, ...(await put(json({ schemaVersion: 2, mediaType: OCI, config: {}, layers: [], n: "referrers" }))) },
    { mediaType: DOCKER, ...(await put(json({ schemaVersion: 2, mediaType: DOCKER, config: {}, layers: [], n: "referrers" }))) },
  ];
  const artifacts: Record<string, string> = {};
  for (const [i, subject] of subjects.entries()) {
    const manifests: ReferrerDescriptor[] = [];
    for (const [type, doc] of Object.entries(docs)) {
      const annotations = { "org.opencontainers.image.created": "1970-01-01T00:00:01Z" };
      const bytes = json({ schemaVersion: 2, mediaType: OCI, artifactType: type, config: empty, layers: [{ mediaType: type, ...doc }], subject, annotations });
      const stored = await put(bytes);
      manifests.push({ mediaType: OCI, ...stored, artifactType: type, annotations });
      if (i === 0) artifacts[type] = stored.digest;
    }
    await env.BLOBS.put(referrersRecordKey(subject.digest), JSON.stringify({ manifests }));
  }
  return { name: "git", subjects: subjects.map((s) => s.digest), artifacts, sbomBlob: docs[SPDX].digest };
}

let fixture: ReferrersFixture;
beforeAll(async () => {
  fixture = await seed();
});

describe("referrers on the Worker (R2)", () => {
  it.each(referrersRows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    expect(await runReferrersRow((path, init) => SELF.fetch(`https://registry.test${path}`, init), row, fixture)).toEqual([]);
  });
});
