/**
 * SIGTERM and SIGINT for a long-running process: running builds get
 * NIXPORT_SHUTDOWN_GRACE_SECONDS (default 30) to finish, then `closeServers` stops what serves
 * them, then the process exits. A second signal while stopping changes nothing.
 */
import type { Builder } from "./builder.ts";
import type { Log } from "../common/log.ts";

export function stopOnSignals(builder: Builder, closeServers: () => Promise<void>, log: Log, env: NodeJS.ProcessEnv = process.env): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("shutting down: finishing running builds", { signal });
    await builder.close(Number(env.NIXPORT_SHUTDOWN_GRACE_SECONDS ?? 30) * 1000);
    await closeServers();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
