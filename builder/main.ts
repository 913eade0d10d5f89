/** `npm run builder`: the build service alone, on NIXPORT_GRPC_PORT (gRPC, gRPC-web, Connect). */
import { checkHost, createBuilder } from "./builder.ts";
import { builderConfigFromEnv } from "./config.ts";
import { startGrpcServer } from "./grpc/server.ts";
import { jsonLog } from "./log.ts";

const log = jsonLog("builder");
try {
  const config = builderConfigFromEnv();
  const builder = await createBuilder(config, process.env, { log });
  const nixVersion = await checkHost(builder.source);
  const server = await startGrpcServer(builder.backend, { port: config.grpcPort, token: config.token, host: process.env.NIXPORT_GRPC_HOST, log });
  log("builder listening", { host: server.host, port: server.port, source: builder.source.description, nix: nixVersion });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("shutting down: finishing running builds", { signal });
    await builder.close(Number(process.env.NIXPORT_SHUTDOWN_GRACE_SECONDS ?? 30) * 1000);
    await server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
} catch (e) {
  log("cannot start", { error: (e as Error).message });
  process.exit(1);
}
