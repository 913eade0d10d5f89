import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { bearerAuth } from "./auth.ts";
import { jsonLog } from "../../common/log.ts";
import type { BuilderBackend } from "../service/types.ts";
import { isLoopbackHost } from "../../common/loopback.ts";
import { guardFirstBytes, guardHttp1, guardHttp2, type GuardOptions } from "./guard.ts";
import { builderRoutes } from "./service.ts";

export interface GrpcServerOptions {
  port: number;
  /** Bearer token every call must carry; without one the server binds loopback only. */
  token?: string;
  /** Address to bind (default 0.0.0.0 with a token, 127.0.0.1 without). */
  host?: string;
  /** PEM certificate (chain) and private key: serve TLS only (ALPN picks HTTP/2 or HTTP/1.1). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Connections held at once; more are refused (default 512). */
  maxConnections?: number;
  /** A new or idle connection must send a whole request head this soon (default 10 s). */
  headersTimeoutMs?: number;
  /** A connection with no call in flight is closed after this long (default 60 s). */
  idleTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningGrpcServer {
  port: number;
  host: string;
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves the builder as gRPC over HTTP/2 and as gRPC-web and Connect over HTTP/1.1, on one
 * port, in clear or with TLS. In clear the first bytes of a connection tell which (HTTP/2
 * opens with the "PRI * HTTP/2.0" preface); with TLS, ALPN does. Every connection is
 * guarded by time (guard.ts) and their number is capped.
 */
export async function startGrpcServer(backend: BuilderBackend, opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const host = opts.host ?? (opts.token ? "0.0.0.0" : "127.0.0.1");
  if (!opts.token && !isLoopbackHost(host)) {
    throw new Error(`refusing to serve builds on ${host} without a token: set NIXPORT_BUILDER_TOKEN, or bind a loopback address (NIXPORT_GRPC_HOST=127.0.0.1)`);
  }
  const handler = connectNodeAdapter({
    routes: builderRoutes(backend, opts.log ?? jsonLog("builder")),
    interceptors: opts.token ? [bearerAuth(opts.token)] : [],
    grpc: true,
    grpcWeb: true,
    connect: true,
  });
  const limits = { headersTimeoutMs: opts.headersTimeoutMs ?? 10_000, idleTimeoutMs: opts.idleTimeoutMs ?? 60_000 };
  const h1 = http.createServer(handler);
  const h2 = http2.createServer({}, handler);
  guardHttp1(h1, limits);
  guardHttp2(h2, limits);
  const sockets = new Set<net.Socket>();
  const server = opts.tls
    ? tls.createServer({ ...opts.tls, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: limits.headersTimeoutMs }, (secure) =>
        (secure.alpnProtocol === "h2" ? h2 : h1).emit("connection", secure),
      )
    : net.createServer((socket) => sniff(socket, h1, h2, limits));
  server.maxConnections = opts.maxConnections ?? 512;
  // Every accepted socket (before TLS, too), for close().
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A failed TLS handshake is the client's problem; the socket is gone already.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  if (!opts.token) opts.log?.("no NIXPORT_BUILDER_TOKEN set: the builder accepts calls without a token, on loopback only", { host, port });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return {
    port,
    host,
    /**
     * Stops accepting connections, lets calls in flight finish (HTTP/2 sessions get a GOAWAY,
     * idle HTTP/1.1 connections close), and destroys whatever is left after `graceMs`.
     */
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const session of sessions) session.close();
        h1.closeIdleConnections();
        const poll = setInterval(() => {
          h1.closeIdleConnections();
          if (sockets.size === 0) clearInterval(poll);
        }, 50);
        poll.unref();
      }),
  };
}

/** Hands a cleartext connection to HTTP/2 or HTTP/1.1 by its first bytes. */
function sniff(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, limits: GuardOptions): void {
  const sent = guardFirstBytes(socket, limits);
  socket.once("data", (first: Buffer) => {
    sent();
    socket.pause();
    if (first.subarray(0, 3).toString("latin1") === "PRI") {
      // HTTP/2 sessions read a net.Socket's native handle directly and would miss the bytes
      // already read; a JS stream that replays them first is read through JS instead.
      h2.emit("connection", new Replayed(socket, first));
    } else {
      socket.unshift(first);
      h1.emit("connection", socket);
      socket.resume();
    }
  });
}

/** A socket whose first bytes, already read, are delivered again before the rest. */
class Replayed extends Duplex {
  constructor(private readonly socket: net.Socket, first: Buffer) {
    super();
    this.push(first);
    socket.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy(err ?? undefined);
    cb(err);
  }
}
