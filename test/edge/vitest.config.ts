// Edge tests inside workerd (vitest-pool-workers): the Worker from wrangler.toml, with local
// R2 and KV from miniflare and test values for its vars. `SELF.fetch` reaches edge/worker/worker.ts.
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      main: `${root}edge/worker/worker.ts`,
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        // A second bucket for the R2 driver's contract tests, apart from the Worker's.
        r2Buckets: ["BLOBS", "SCRATCH"],
        kvNamespaces: ["TAGS"],
        bindings: { SOURCE: "nixpkgs <test> & co", BUILDER_URLS: "", PUBLIC_BLOB_URL: "" },
      },
    }),
  ],
  test: {
    name: "edge",
    include: ["test/edge/**/*.test.ts"],
  },
});
