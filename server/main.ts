/**
 * `npm start`: the all-in-one registry, and the house's one composition root. The edge (Hono
 * on Node) on PORT and the builder in the same process, its gRPC API on NIXPORT_GRPC_PORT;
 * the edge reaches the builder only through the Connect client the Worker uses, over
 * loopback. Only this folder imports both edge/ and builder/; neither imports the other.
 *
 * One process rather than the builder as a child: a crash or a SIGKILL ends both at once
 * (no orphaned builder writing on), and logs, signals and the exit status are one by nature.
 */
import { parsePlatforms } from "../common/platforms.ts";
import { randomBytes } from "node:crypto";
import { checkHost, createBuilder } from "../builder/builder.ts";
import { builderConfigFromEnv } from "../builder/config.ts";
import { startGrpcServer } from "../builder/grpc/server.ts";
import { jsonLog } from "../common/log.ts";
import { stopOnSignals } from "../builder/shutdown.ts";
import { connectBuilder } from "../edge/builder/connect.ts";
import { routedBuilder } from "../edge/builder/chooser.ts";
import { parseCredentials, PullAuth } from "../edge/auth.ts";
import { accessLogLines } from "../edge/node/access-log.ts";
import { createNodeEdge, listen } from "../edge/node/app.ts";
import { nodeCredentials } from "../common/storage/node-credentials.ts";

/** Pull authentication when NIXPORT_PULL_CREDENTIALS is set (`user:password,…`). */
function pullAuthFromEnv(env: NodeJS.ProcessEnv): { auth?: PullAuth } {
  const users = parseCredentials(env.NIXPORT_PULL_CREDENTIALS);
  if (!users.size) return {};
  // Without a configured key, tokens are signed with a key of this process (valid until restart).
  return { auth: new PullAuth({ users, secret: env.NIXPORT_PULL_TOKEN_SECRET || randomBytes(32).toString("hex") }) };
}

const log = jsonLog("nixport");
try {
  const env = process.env;
  const config = builderConfigFromEnv(env);
  // Without a configured token the builder still gets one: a random one only this process knows.
  const token = config.token ?? randomBytes(24).toString("base64url");
  const { storage } = config;
  // One credentials source for the builder's uploads and the edge's presigned URLs.
  const credentials = storage.s3 ? nodeCredentials(storage) : undefined;
  const builder = await createBuilder({ ...config, token }, env, { log, ...(credentials ? { credentials } : {}) });
  const nixVersion = await checkHost(builder.source);
  // The edge in this process reaches the builder over loopback in clear; TLS is for `npm run builder`.
  if (config.grpcTls) throw new Error("NIXPORT_GRPC_TLS_CERT/KEY are for the builder alone (npm run builder); npm start serves its builder API in clear");
  const grpc = await startGrpcServer(builder.backend, {
    port: config.grpcPort,
    token,
    host: env.NIXPORT_GRPC_HOST ?? (config.token ? "0.0.0.0" : "127.0.0.1"),
    maxConnections: config.grpcMaxConnections,
    log,
  });
  const edge = createNodeEdge({
    // Routed like the Worker's builders: a platform this host's Nix cannot build is refused by name.
    builder: routedBuilder(new Map([["local", connectBuilder({ baseUrl: `http://127.0.0.1:${grpc.port}`, token })]])),
    storage,
    ...(credentials ? { credentials } : {}),
    config: {
      source: builder.source.description,
      ...(Number(env.NIXPORT_PULL_WAIT_SECONDS) > 0 ? { pullWaitSeconds: Number(env.NIXPORT_PULL_WAIT_SECONDS) } : {}),
      ...(Number(env.NIXPORT_MAX_BUILDS_PER_CLIENT) > 0 ? { maxBuildsPerClient: Number(env.NIXPORT_MAX_BUILDS_PER_CLIENT) } : {}),
      // Default: the platform of this host, whose builder builds it.
      platforms: parsePlatforms(env.NIXPORT_PLATFORMS, [process.arch === "arm64" ? "arm64" : "amd64"]),
    },
    accessLog: accessLogLines("nixport"),
    ...pullAuthFromEnv(env),
  });
  const http = await listen(edge.app, { port: Number(env.PORT ?? 8080), hostname: env.HOST ?? "0.0.0.0" });
  log("nixport listening", { registry: http.url, grpc: grpc.port, source: builder.source.description, store: storage.s3 ? `s3://${storage.s3.bucket}/${storage.prefix}` : config.dataDir, nix: nixVersion });
  stopOnSignals(
    builder,
    async () => {
      // The edge first: its requests in flight still read their answers from the builder.
      await http.close();
      await grpc.close();
    },
    log,
    env,
  );
} catch (e) {
  log("cannot start", { error: (e as Error).message });
  process.exit(1);
}
