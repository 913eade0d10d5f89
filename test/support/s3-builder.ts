import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBuilder, type Builder } from "../../builder/builder.ts";
import { builderConfigFromEnv } from "../../builder/config.ts";
import { startGrpcServer, type RunningGrpcServer } from "../../builder/grpc/server.ts";
import { Nix } from "../../builder/nix/nix.ts";
import { S3BlobStore } from "../../builder/store/s3.ts";
import { TESTPKGS } from "./nix.ts";
import type { SwiftS3 } from "./swift.ts";

export interface S3Builder {
  builder: Builder;
  server: RunningGrpcServer;
  store: S3BlobStore;
  /** Build calls that reached the builder's service, by canonical package list. */
  calls: string[];
  /** The architecture of each of those calls. */
  archCalls: string[];
  nixCalls: string[];
  stop(): Promise<void>;
}

/** A builder over nix/testpkgs writing to Swift, behind the gRPC/Connect server, counting calls. */
export async function startS3Builder(swift: SwiftS3, token: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<S3Builder> {
  const dataDir = mkdtempSync(join(tmpdir(), "nixport-builder-s3-"));
  // PATH for the nix it asks for its systems; extraEnv: what its Nix sees too (NIX_CONFIG).
  const env = { PATH: process.env.PATH, NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: dataDir, ...extraEnv };
  const config = builderConfigFromEnv(env);
  const store = new S3BlobStore({
    endpoint: swift.endpoint,
    region: swift.region,
    bucket: swift.bucket,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    forcePathStyle: true,
  });
  const nixCalls: string[] = [];
  const nix = new Nix({ gcRootDir: join(dataDir, "gcroots"), buildTimeoutMs: config.buildTimeoutMs, onInvoke: (cmd) => nixCalls.push(cmd) });
  const builder = await createBuilder({ ...config, token }, env, { nix, store });
  const calls: string[] = [];
  const archCalls: string[] = [];
  const backend = {
    ...builder.backend,
    build: (...args: Parameters<Builder["backend"]["build"]>) => {
      calls.push(args[0].packages.join("/"));
      archCalls.push(args[0].arch);
      return builder.backend.build(...args);
    },
  };
  const server = await startGrpcServer(backend, { port: 0, token, host: "127.0.0.1" });
  return {
    builder,
    server,
    store,
    calls,
    archCalls,
    nixCalls,
    async stop() {
      await builder.close(1000);
      await server.close();
      store.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}


/** The Worker's vars for builders at `ports` (loopback) writing to `swift`, read there too. */
export function swiftWorkerVars(swift: SwiftS3, ports: number[], token: string): Record<string, string> {
  return {
    BUILDER_URLS: ports.map((p) => `http://127.0.0.1:${p}`).join(","),
    BUILDER_TOKEN: token,
    S3_ENDPOINT: swift.endpoint,
    S3_BUCKET: swift.bucket,
    S3_REGION: swift.region,
    S3_ACCESS_KEY_ID: swift.accessKeyId,
    S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
    S3_PATH_STYLE: "true",
    SOURCE: "nix/testpkgs",
  };
}
