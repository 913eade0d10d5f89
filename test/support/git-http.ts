/**
 * A git server over HTTP, as a hosted one behaves: `git http-backend` (CGI) behind a small
 * Node server on loopback, serving every repository under `root`. It counts the bytes it
 * sends, so tests and benchmarks can see what a fetch transferred.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT/`: a repository `root/x.git` is `${url}x.git`. */
  url: string;
  /** Response bytes sent so far. */
  bytesSent(): number;
  close(): Promise<void>;
}

export async function startGitHttp(root: string): Promise<GitHttpServer> {
  let sent = 0;
  const server = createServer((req, res) => cgi(root, req, res, (n) => (sent += n)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    bytesSent: () => sent,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function cgi(root: string, req: IncomingMessage, res: ServerResponse, count: (n: number) => void): void {
  const url = new URL(req.url ?? "/", "http://x");
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      REMOTE_ADDR: "127.0.0.1",
      // Protocol v2 (ref prefixes) and gzip-compressed requests, as git clients send them.
      GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on("data", (b: Buffer) => {
    if (headerDone) {
      count(b.length);
      res.write(b);
      return;
    }
    head = Buffer.concat([head, b]);
    const crlf = head.indexOf("\r\n\r\n");
    const end = crlf >= 0 ? crlf : head.indexOf("\n\n");
    if (end < 0) return;
    const sep = crlf >= 0 ? 4 : 2;
    headerDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const i = line.indexOf(":");
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    const body = head.subarray(end + sep);
    count(body.length);
    res.write(body);
  });
  child.on("close", () => res.end());
  child.on("error", () => res.destroy());
}
