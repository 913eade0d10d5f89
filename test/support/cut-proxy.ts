/**
 * A TCP proxy on loopback that a test can cut: every open connection is dropped and new ones
 * are refused (the listening socket is closed), as when a storage service goes down; then it
 * listens again on the same port. Used in front of Swift, whose servers cannot be restarted
 * on the same ports by test/support/swift.ts.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface CuttableProxy {
  url: string;
  /** How many times the proxy was cut. */
  readonly cuts: number;
  /** Cuts now. */
  cut(): void;
  /** Cuts at the first upload (an HTTP PUT or POST) that passes through from now on. */
  cutOnUpload(): void;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

const UPLOAD = /^(PUT|POST) /;

export async function cuttableProxy(targetPort: number, host = "127.0.0.1"): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let armed = false;
  let cuts = 0;
  let server: Server | null = null;

  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const cut = () => {
    armed = false;
    cuts++;
    server?.close();
    server = null;
    for (const s of sockets) s.destroy();
  };
  const onConnection = (client: Socket) => {
    const upstream = connect(targetPort, host);
    track(client);
    track(upstream);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);
    client.on("data", (chunk: Buffer) => {
      // Requests start at the beginning of a chunk on a keep-alive connection: good enough here.
      if (armed && UPLOAD.test(chunk.toString("latin1", 0, 5))) return cut();
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once("drain", () => client.resume());
      }
    });
    client.on("end", () => upstream.end());
  };
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer(onConnection);
      s.once("error", reject);
      s.listen(port, host, () => {
        server = s;
        resolve((s.address() as { port: number }).port);
      });
    });

  const port = await listen(0);
  return {
    url: `http://${host}:${port}`,
    get cuts() {
      return cuts;
    },
    cut,
    cutOnUpload: () => void (armed = true),
    restore: async () => {
      if (!server) await listen(port);
    },
    close: async () => {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise((resolve) => s.close(resolve));
    },
  };
}
