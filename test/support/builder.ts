import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBuilder, type Builder, type BuilderParts } from "../../builder/builder.ts";
import { builderConfigFromEnv } from "../../builder/config.ts";
import { startGrpcServer, type RunningGrpcServer } from "../../builder/grpc/server.ts";
import { TESTPKGS } from "./nix.ts";

export interface TestBuilder {
  builder: Builder;
  server: RunningGrpcServer;
  address: string;
  dataDir: string;
  /** Nix processes started, by command (nix-build = realisations). */
  nixCalls: string[];
  stop(): Promise<void>;
}

/** A builder over nix/testpkgs with a filesystem store of its own, served on a free port. */
export async function startTestBuilder(opts: { token?: string; env?: NodeJS.ProcessEnv; parts?: BuilderParts } = {}): Promise<TestBuilder> {
  const dataDir = mkdtempSync(join(tmpdir(), "nixport-builder-"));
  const env = { NIXPORT_PKGS_PATH: TESTPKGS, NIXPORT_DATA: dataDir, ...opts.env };
  const config = builderConfigFromEnv(env);
  const nixCalls: string[] = [];
  const { Nix } = await import("../../builder/nix/nix.ts");
  const nix = new Nix({ gcRootDir: join(dataDir, "gcroots"), buildTimeoutMs: config.buildTimeoutMs, substituteOnly: config.substituteOnly, onInvoke: (cmd) => nixCalls.push(cmd) });
  const builder = await createBuilder(config, env, { ...opts.parts, nix });
  const server = await startGrpcServer(builder.backend, { port: 0, token: opts.token, host: "127.0.0.1" });
  return {
    builder,
    server,
    address: `127.0.0.1:${server.port}`,
    dataDir,
    nixCalls,
    async stop() {
      await builder.close(1000);
      await server.close();
    },
  };
}
