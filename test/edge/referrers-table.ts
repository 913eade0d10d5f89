/**
 * The referrers API as a table of requests and answers, run against the Node edge over a real
 * build's store (test/integration/referrers-node.test.ts) and inside workerd over R2
 * (test/edge/referrers.test.ts). Pure: it only fetches.
 */
export const SPDX = "application/spdx+json";
export const IN_TOTO = "application/vnd.in-toto+json";
export const INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** What the table needs of a stored image: its name, manifests and their artifacts. */
export interface ReferrersFixture {
  name: string;
  /** The image's manifest digests (OCI, and Docker when served), each with referrers. */
  subjects: string[];
  /** Artifact manifest digests of the first subject, by artifact type. */
  artifacts: Record<string, string>;
  /** The SBOM document's digest (a blob). */
  sbomBlob: string;
}

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: { mediaType: string; digest: string; size: number; artifactType: string; annotations?: Record<string, string> }[];
}

export interface ReferrersRow {
  name: string;
  method?: string;
  path: (f: ReferrersFixture) => string;
  status: number;
  code?: string;
  headers?: Record<string, string | RegExp | null | ((f: ReferrersFixture) => string)>;
  /** Throws (an assertion) when the body is wrong. */
  body?: (body: unknown, f: ReferrersFixture) => void;
}

const UNKNOWN = `sha256:${"0".repeat(64)}`;
const hex = (digest: string) => digest.slice("sha256:".length);

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`${what}: got ${JSON.stringify(value)}`);
}

function types(expected: string[]) {
  return (body: unknown) => {
    const index = body as Index;
    check(index.schemaVersion === 2 && index.mediaType === INDEX, "an OCI index", index);
    const got = index.manifests.map((m) => m.artifactType).sort();
    check(JSON.stringify(got) === JSON.stringify([...expected].sort()), `artifact types ${expected.join(",")}`, got);
    for (const m of index.manifests) {
      check(m.mediaType === OCI_MANIFEST && /^sha256:[a-f0-9]{64}$/.test(m.digest) && m.size > 0, "a manifest descriptor", m);
      check(typeof m.annotations?.["org.opencontainers.image.created"] === "string", "annotations", m.annotations);
    }
  };
}

const listsFixture = (body: unknown, f: ReferrersFixture) => {
  types([SPDX, IN_TOTO])(body);
  const digests = (body as Index).manifests.map((m) => m.digest).sort();
  check(JSON.stringify(digests) === JSON.stringify(Object.values(f.artifacts).sort()), "the fixture's artifacts", digests);
};

export const referrersRows: ReferrersRow[] = [
  { name: "referrers of the image manifest", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}`, status: 200, headers: { "content-type": INDEX, "oci-filters-applied": null }, body: listsFixture },
  { name: "referrers of its other format's manifest", path: (f) => `/v2/${f.name}/referrers/${f.subjects.at(-1)}`, status: 200, body: types([SPDX, IN_TOTO]) },
  { name: "referrers, colon escaped", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]!.replace(":", "%3A")}`, status: 200, body: types([SPDX, IN_TOTO]) },
  { name: "filtered to the SBOM", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}?artifactType=${encodeURIComponent(SPDX)}`, status: 200, headers: { "oci-filters-applied": "artifactType" }, body: types([SPDX]) },
  { name: "filtered to the provenance", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}?artifactType=${encodeURIComponent(IN_TOTO)}`, status: 200, headers: { "oci-filters-applied": "artifactType" }, body: types([IN_TOTO]) },
  { name: "filtered to a type nobody has", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}?artifactType=application%2Fexample`, status: 200, headers: { "oci-filters-applied": "artifactType" }, body: types([]) },
  { name: "empty artifactType filters nothing", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}?artifactType=`, status: 200, headers: { "oci-filters-applied": null }, body: types([SPDX, IN_TOTO]) },
  { name: "a digest with no referrers: empty index", path: (f) => `/v2/${f.name}/referrers/${UNKNOWN}`, status: 200, headers: { "content-type": INDEX }, body: types([]) },
  { name: "an artifact has no referrers of its own", path: (f) => `/v2/${f.name}/referrers/${f.artifacts[SPDX]}`, status: 200, body: types([]) },
  { name: "a sha512 digest: empty index", path: (f) => `/v2/${f.name}/referrers/sha512:${"a".repeat(128)}`, status: 200, body: types([]) },
  { name: "HEAD referrers", method: "HEAD", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}`, status: 200, headers: { "content-type": INDEX } },
  { name: "malformed digest", path: (f) => `/v2/${f.name}/referrers/sha256:abc`, status: 400, code: "DIGEST_INVALID" },
  { name: "uppercase digest", path: (f) => `/v2/${f.name}/referrers/sha256:${"A".repeat(64)}`, status: 400, code: "DIGEST_INVALID" },
  { name: "not a digest", path: (f) => `/v2/${f.name}/referrers/latest`, status: 400, code: "DIGEST_INVALID" },
  { name: "invalid name", path: (f) => `/v2/UPPER/referrers/${f.subjects[0]}`, status: 400, code: "NAME_INVALID" },
  { name: "POST referrers", method: "POST", path: (f) => `/v2/${f.name}/referrers/${f.subjects[0]}`, status: 405, code: "UNSUPPORTED" },
  // The referrers tag schema, for clients older than the API.
  {
    name: "fallback tag sha256-<hex>",
    path: (f) => `/v2/${f.name}/manifests/sha256-${hex(f.subjects[0]!)}`,
    status: 200,
    headers: { "content-type": INDEX, "docker-content-digest": /^sha256:[a-f0-9]{64}$/ },
    body: listsFixture,
  },
  { name: "fallback tag HEAD", method: "HEAD", path: (f) => `/v2/${f.name}/manifests/sha256-${hex(f.subjects[0]!)}`, status: 200, headers: { "content-type": INDEX } },
  { name: "fallback tag of a digest with no referrers", path: (f) => `/v2/${f.name}/manifests/sha256-${"0".repeat(64)}`, status: 404, code: "MANIFEST_UNKNOWN" },
  // The artifacts themselves, by digest.
  {
    name: "SBOM artifact manifest by digest",
    path: (f) => `/v2/${f.name}/manifests/${f.artifacts[SPDX]}`,
    status: 200,
    headers: { "content-type": OCI_MANIFEST, "docker-content-digest": (f) => f.artifacts[SPDX]! },
    body: (b, f) => {
      const m = b as { artifactType: string; subject: { digest: string }; layers: { digest: string }[]; config: { mediaType: string } };
      check(m.artifactType === SPDX && m.subject.digest === f.subjects[0] && m.layers[0]?.digest === f.sbomBlob, "the SBOM artifact", m);
      check(m.config.mediaType === "application/vnd.oci.empty.v1+json", "the empty config", m.config);
    },
  },
  { name: "provenance artifact manifest by digest", path: (f) => `/v2/${f.name}/manifests/${f.artifacts[IN_TOTO]}`, status: 200, body: (b) => check((b as { artifactType: string }).artifactType === IN_TOTO, "provenance", b) },
  { name: "SBOM blob HEAD", method: "HEAD", path: (f) => `/v2/${f.name}/blobs/${f.sbomBlob}`, status: 200 },
];

/** Runs one row; returns the mismatches (empty when the answer is right). */
export async function runReferrersRow(fetch: (path: string, init: RequestInit) => Promise<Response>, row: ReferrersRow, f: ReferrersFixture): Promise<string[]> {
  const res = await fetch(row.path(f), { method: row.method ?? "GET", headers: { Accept: `${INDEX}, ${OCI_MANIFEST}` } });
  const problems: string[] = [];
  if (res.status !== row.status) problems.push(`status ${res.status}, wanted ${row.status}`);
  for (const [name, want] of Object.entries(row.headers ?? {})) {
    const got = res.headers.get(name);
    const w = typeof want === "function" ? want(f) : want;
    const ok = w === null ? got === null : w instanceof RegExp ? got !== null && w.test(got) : got === w;
    if (!ok) problems.push(`header ${name}: ${JSON.stringify(got)}, wanted ${String(w)}`);
  }
  const text = await res.text();
  if (row.method === "HEAD") return problems;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, `body is not JSON: ${text.slice(0, 200)}`];
  }
  if (row.code) {
    const code = (body as { errors?: { code: string }[] }).errors?.[0]?.code;
    if (code !== row.code) problems.push(`error code ${code}, wanted ${row.code}`);
  }
  try {
    row.body?.(body, f);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}
