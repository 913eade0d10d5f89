/** `npm run builder`: the build service alone, on NIXPORT_GRPC_PORT (gRPC, gRPC-web, Connect). */
import { readFile } from "node:fs/promises";
import { checkHost, createBuilder } from "./builder.ts";
import { builderConfigFromEnv } from "./config.ts";
import { startGrpcServer } from "./grpc/server.ts";
import { jsonLog } from "../common/log.ts";
import { stopOnSignals } from "./shutdown.ts";

const log = jsonLog("builder");
try {
  const config = builderConfigFromEnv();
  const builder = await createBuilder(config, process.env, { log });
  const nixVersion = await checkHost(builder.source);
  const tls = config.grpcTls && { cert: await readFile(config.grpcTls.certFile), key: await readFile(config.grpcTls.keyFile) };
  const server = await startGrpcServer(builder.backend, {
    port: config.grpcPort,
    token: config.token,
    host: process.env.NIXPORT_GRPC_HOST,
    maxConnections: config.grpcMaxConnections,
    ...(tls ? { tls } : {}),
    log,
  });
  log("builder listening", { host: server.host, port: server.port, tls: Boolean(tls), source: builder.source.description, nix: nixVersion });
  stopOnSignals(builder, () => server.close(), log);
} catch (e) {
  log("cannot start", { error: (e as Error).message });
  process.exit(1);
}
