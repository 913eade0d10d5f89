import { defineConfig } from "vitest/config";

// Two Node projects: pure-logic unit tests, and integration tests that drive real Nix,
// real S3 (Swift) and real registry clients. Edge tests that run inside workerd have a
// config of their own (test/edge/vitest.config.ts), because their pool differs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Property tests run thousands of cases: 5 s was too little with both cores busy.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Nix builds and registry clients are heavy; two cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
