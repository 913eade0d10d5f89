/**
 * A closed-loop HEAD load generator, run as a child process of the `serve` suite so it never
 * shares an event loop with a server. wrk and autocannon both wait for a body after a HEAD
 * answer that carries Content-Length (the size of the blob, as RFC 9110 asks), so neither can
 * measure blob HEADs. Each connection keeps one request in flight, like wrk.
 *
 *   node --import tsx test/bench/head-load.ts '{"url":…,"connections":50,"seconds":5}'
 *
 * prints one JSON line: {requests, seconds, errors, p99Ms}.
 */
import { connect, type Socket } from "node:net";

interface Options {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}

const HEAD_END = "\r\n\r\n";

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(o: Options): Promise<void> {
  const url = new URL(o.url);
  const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const request = Buffer.from(`HEAD ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n${extra}\r\n`, "latin1");
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + o.seconds * 1000;

  const runConnection = () =>
    new Promise<void>((resolve) => {
      const socket: Socket = connect(Number(url.port), url.hostname);
      let pending = "";
      let sentAt = 0;
      const send = () => {
        if (performance.now() >= deadline) return void socket.end();
        sentAt = performance.now();
        socket.write(request);
      };
      socket.setNoDelay(true);
      socket.on("connect", send);
      socket.on("data", (chunk) => {
        pending += chunk.toString("latin1");
        let end: number;
        while ((end = pending.indexOf(HEAD_END)) >= 0) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + HEAD_END.length);
          if (!/^HTTP\/1\.1 2\d\d /.test(head)) errors++;
          latencies.push(performance.now() - sentAt);
          send();
        }
      });
      socket.on("error", () => errors++);
      socket.on("close", () => resolve());
    });

  await Promise.all(Array.from({ length: o.connections }, runConnection));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds, errors, p99Ms: percentile(sorted, 99) })}\n`);
}

await main(JSON.parse(process.argv[2] ?? "{}") as Options);
