import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { BuilderService } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import { startGrpcServer, type GrpcServerOptions, type RunningGrpcServer } from "../../builder/grpc/server.ts";
import type { BuilderBackend } from "../../builder/service/types.ts";
import { authMetadata, builderClient, type WireBuildEvent } from "../../builder/cli/grpc-client.ts";

// The builder's port under hostile or careless clients: time limits on HTTP/1.1 and HTTP/2,
// a cap on connections, no token-less service beyond loopback, and TLS (a test CA made here
// with openssl) for grpc-js and Connect clients. The backend is scripted: builds answer after
// `silentMs` without sending anything, as a long Nix build may.
const TOKEN = "port-test-token";
let silentMs = 0;
const backend: BuilderBackend = {
  serving: () => true,
  async build(spec) {
    await new Promise((r) => setTimeout(r, silentMs));
    const content = new TextEncoder().encode('{"schemaVersion":2}');
    return { manifests: [{ content, digest: "sha256:" + "b".repeat(64), mediaType: "application/vnd.oci.image.manifest.v1+json", size: content.length }], revision: "r1", immutable: false, packages: spec.packages };
  },
  async checkPackages() {
    return { resolved: [], unknown: [] };
  },
};

const servers: RunningGrpcServer[] = [];
async function serve(o: Partial<GrpcServerOptions>): Promise<RunningGrpcServer> {
  const s = await startGrpcServer(backend, { port: 0, token: TOKEN, host: "127.0.0.1", ...o });
  servers.push(s);
  return s;
}
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nixport-grpc-port-"));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
  rmSync(dir, { recursive: true, force: true });
});

/** A raw TCP connection that resolves `closed` when the server closes it. */
function connect(port: number): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.on("data", () => {});
  return { socket, closed: new Promise((r) => socket.once("close", () => r())) };
}

async function grpcBuild(client: grpc.Client & { build: ReturnType<typeof builderClient>["build"] }): Promise<{ events: WireBuildEvent[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const events: WireBuildEvent[] = [];
    const call = client.build({ packages: ["hello"], tag: "latest" }, authMetadata(TOKEN));
    call.on("data", (e: WireBuildEvent) => events.push(e));
    call.on("error", (error: grpc.ServiceError) => resolve({ events, error }));
    call.on("end", () => resolve({ events }));
  });
}

async function connectBuild(transport: ReturnType<typeof createGrpcTransport>): Promise<string[]> {
  const client = createClient(BuilderService, transport);
  const kinds: string[] = [];
  for await (const ev of client.build({ packages: ["hello"] }, { headers: { authorization: `Bearer ${TOKEN}` } })) kinds.push(ev.event.case ?? "none");
  return kinds;
}

describe("the builder's port", () => {
  it("closes connections that send nothing, a trickled HTTP/1.1 head, or an HTTP/2 preface without a call", async () => {
    const s = await serve({ headersTimeoutMs: 300, idleTimeoutMs: 300 });
    const silent = connect(s.port);
    const trickle = connect(s.port);
    trickle.socket.write("POST /nixport.builder.v1.BuilderService/Build HTTP/1.1\r\nHost: b\r\n");
    let n = 0;
    const drip = setInterval(() => n++ < 200 && !trickle.socket.destroyed && trickle.socket.write(`x-${n}: y\r\n`), 50);
    const h2 = connect(s.port);
    h2.socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    await Promise.all([silent.closed, trickle.closed, h2.closed]);
    clearInterval(drip);
  });

  it("keeps a call that is silent for longer than the idle timeout, over HTTP/2 (grpc-js) and HTTP/1.1 (gRPC-web)", async () => {
    const s = await serve({ headersTimeoutMs: 200, idleTimeoutMs: 200 });
    silentMs = 1000;
    try {
      const client = builderClient(`127.0.0.1:${s.port}`);
      const viaGrpc = await grpcBuild(client);
      client.close();
      expect(viaGrpc.error).toBeUndefined();
      expect(viaGrpc.events.map((e) => e.event)).toEqual(["done"]);
      expect(await connectBuild(createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${s.port}`, httpVersion: "1.1" }))).toEqual(["done"]);
    } finally {
      silentMs = 0;
    }
  });

  it("refuses connections past its cap while the first ones stay open", async () => {
    const s = await serve({ maxConnections: 2, headersTimeoutMs: 60_000 });
    const held = [connect(s.port), connect(s.port)];
    // An answer on each proves the server holds both (keep-alive keeps them open) before the third.
    await Promise.all(
      held.map((c) => {
        c.socket.write("GET / HTTP/1.1\r\nHost: b\r\n\r\n");
        return new Promise((r) => c.socket.once("data", r));
      }),
    );
    const extra = connect(s.port);
    await extra.closed;
    expect(held.map((c) => c.socket.destroyed)).toEqual([false, false]);
    for (const c of held) c.socket.destroy();
  });

  it("refuses to start beyond loopback without a token, saying what to do", async () => {
    for (const host of ["0.0.0.0", "::"]) {
      await expect(startGrpcServer(backend, { port: 0, host })).rejects.toThrow(/refusing to serve builds on .* without a token: set NIXPORT_BUILDER_TOKEN, or bind a loopback address/);
    }
    const local = await startGrpcServer(backend, { port: 0 });
    servers.push(local);
    expect(local.host).toBe("127.0.0.1");
  });

  describe("with TLS", () => {
    let ca: Buffer;
    let s: RunningGrpcServer;
    beforeAll(async () => {
      const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
      openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=nixport test CA");
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
      writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
      ca = readFileSync(join(dir, "ca.pem"));
      s = await serve({ tls: { cert: readFileSync(join(dir, "server.pem")), key: readFileSync(join(dir, "server.key")) } });
    });

    it("serves grpc-js over TLS, and no cleartext client", async () => {
      const Client = builderClient("127.0.0.1:1").constructor as new (address: string, creds: grpc.ChannelCredentials) => ReturnType<typeof builderClient>;
      const secure = new Client(`127.0.0.1:${s.port}`, grpc.credentials.createSsl(ca));
      const ok = await grpcBuild(secure);
      secure.close();
      expect(ok.error).toBeUndefined();
      expect(ok.events.map((e) => e.event)).toEqual(["done"]);
      const clear = builderClient(`127.0.0.1:${s.port}`);
      const refused = await grpcBuild(clear);
      clear.close();
      expect(refused.error?.code).toBe(grpc.status.UNAVAILABLE);
    });

    it("serves Connect's gRPC (HTTP/2) and gRPC-web (HTTP/1.1) over TLS, and refuses a client that does not trust its CA", async () => {
      const baseUrl = `https://127.0.0.1:${s.port}`;
      expect(await connectBuild(createGrpcTransport({ baseUrl, nodeOptions: { ca } }))).toEqual(["done"]);
      expect(await connectBuild(createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca } }))).toEqual(["done"]);
      await expect(connectBuild(createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }))).rejects.toThrow(/certificate/);
    });
  });
});
