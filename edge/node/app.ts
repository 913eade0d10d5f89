/**
 * The edge on Node (@hono/node-server): the same app as the Worker, over a filesystem store
 * (or S3) and a file or memory tag cache. The all-in-one server (server/main.ts) passes
 * the Connect client of its builder, the BuilderClient the Worker uses.
 */
import { getRequestListener, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Context, Hono } from "hono";
import { createEdge, type EdgeApp, type EdgeConfig, type EdgeDeps } from "../app.ts";
import type { BuilderClient } from "../builder/client.ts";
import { MemoryTagCache, type TagCache, TieredTagCache } from "../cache.ts";
import type { StorageConfig } from "../../common/storage/config.ts";
import { nodeCredentials } from "../../common/storage/node-credentials.ts";
import type { CredentialsProvider } from "../../common/storage/s3.ts";
import { blobReaderFor } from "../storage/from-config.ts";
import type { BlobReader } from "../storage/types.ts";
import { FileTagCache } from "./file-cache.ts";
import { FsBlobReader } from "./fs-store.ts";
import { cacheRecords } from "../storage/records.ts";
import { adapterError, answerOutsideTheApp, missingHost } from "./http-errors.ts";

export interface NodeEdgeOptions {
  builder: BuilderClient;
  /**
   * The store (common/storage/config.ts): the filesystem folder, or an S3 bucket read with
   * signed requests and redirected to with presigned URLs; a public URL to redirect to.
   */
  storage: StorageConfig;
  /** S3 credentials; default: the configured keys, else the AWS SDK's default chain. */
  credentials?: CredentialsProvider;
  /** Keep the tag cache in files here (default: <dataDir>/tags for a filesystem store, else memory). */
  tagCacheDir?: string | null;
  config?: Partial<EdgeConfig>;
  /** Pull authentication; off when absent. */
  auth?: EdgeDeps["auth"];
  /** One call per request (method, path, status, time): the server's access log. */
  accessLog?: EdgeDeps["accessLog"];
}

export function nodeBlobReader(o: Pick<NodeEdgeOptions, "storage" | "credentials">): BlobReader {
  const credentials = o.storage.s3 ? (o.credentials ?? nodeCredentials(o.storage)) : undefined;
  return blobReaderFor(o.storage, { local: (c) => new FsBlobReader(c.dataDir, c.prefix), ...(credentials ? { credentials } : {}) });
}

/** The address of the connection a request came on (a proxy in front: the proxy's). */
function socketAddress(c: Context): string | undefined {
  return (c.env as HttpBindings | undefined)?.incoming?.socket?.remoteAddress;
}

export function createNodeEdge(o: NodeEdgeOptions): EdgeApp {
  const staleSeconds = o.config?.staleSeconds ?? 86_400;
  const dir = o.tagCacheDir === undefined ? (o.storage.s3 ? null : join(o.storage.dataDir, "tags")) : o.tagCacheDir;
  // Memory in front of the files: a hit is answered without touching the disk.
  const memory = new MemoryTagCache(staleSeconds);
  const tagCache: TagCache = dir ? new TieredTagCache([memory, new FileTagCache(dir, staleSeconds)]) : memory;
  const blobs = nodeBlobReader(o);
  const deps: Parameters<typeof createEdge>[0] = { blobs, builder: o.builder, tagCache, clientAddress: socketAddress };
  const records = cacheRecords(blobs);
  if (records) deps.records = records;
  if (o.config) deps.config = o.config;
  if (o.accessLog) deps.accessLog = o.accessLog;
  if (o.auth) deps.auth = o.auth;
  return createEdge(deps);
}

export interface RunningEdge {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves the app over HTTP/1.1; port 0 picks a free one. */
export function listen(app: Hono, opts: { port?: number; hostname?: string } = {}): Promise<RunningEdge> {
  const hostname = opts.hostname ?? "127.0.0.1";
  // @hono/node-server drops a Response's statusText; Node keeps a statusMessage set before
  // writeHead, so copy it there (build failures carry their log tail in it).
  const fetch = async (req: Request, env: HttpBindings | Http2Bindings) => {
    const { incoming, outgoing } = env as HttpBindings; // node:http below, never HTTP/2
    const refused = missingHost(incoming);
    if (refused) return refused;
    const res = await app.fetch(req, env);
    // Only errors carry a reason; reading statusText of others would build a full Response.
    if (res.status >= 400 && res.statusText) outgoing.statusMessage = res.statusText;
    return res;
  };
  // Host is checked in fetch, so that its absence gets an OCI error body too.
  const server = createServer({ requireHostHeader: false }, getRequestListener(fetch, { hostname, errorHandler: adapterError }));
  answerOutsideTheApp(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, hostname, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        url: `http://${hostname}:${port}`,
        close: () => new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done()))),
      });
    });
  });
}
