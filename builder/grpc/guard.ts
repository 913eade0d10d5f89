/**
 * Time limits on the builder's connections, for HTTP/1.1 and HTTP/2 alike: a connection must
 * send a whole request head soon after it opens (no half-sent headers held forever), and one
 * with no call in flight is closed after a while. A call in flight is never cut short: a
 * Build stream may be silent for as long as Nix compiles.
 */
import type http from "node:http";
import type http2 from "node:http2";
import type { Duplex } from "node:stream";

export interface GuardOptions {
  /** From a connection's start (and from the end of its last call) to a complete request head. */
  headersTimeoutMs: number;
  /** A connection with no call in flight, after its last call ended. */
  idleTimeoutMs: number;
}

/** One timer per connection: the connection is closed unless the timer is cleared first. */
class Deadlines {
  private readonly timers = new WeakMap<object, NodeJS.Timeout>();

  arm(key: object, ms: number, expire: () => void): void {
    this.clear(key);
    const t = setTimeout(expire, ms);
    t.unref();
    this.timers.set(key, t);
  }

  clear(key: object): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }
}

/** A connection that has sent nothing yet (before HTTP/1.1 or HTTP/2 can be told apart). */
export function guardFirstBytes(socket: Duplex, o: GuardOptions): () => void {
  const t = setTimeout(() => socket.destroy(), o.headersTimeoutMs);
  t.unref();
  return () => clearTimeout(t);
}

/** Guards every connection `h1` is given (by emitting "connection"). */
export function guardHttp1(h1: http.Server, o: GuardOptions): void {
  const deadlines = new Deadlines();
  h1.on("connection", (socket: Duplex) => {
    deadlines.arm(socket, o.headersTimeoutMs, () => socket.destroy());
    socket.once("close", () => deadlines.clear(socket));
  });
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    deadlines.clear(socket);
    // Keep-alive: the next request's head must come within the idle timeout.
    res.once("close", () => !socket.destroyed && deadlines.arm(socket, o.idleTimeoutMs, () => socket.destroy()));
  });
}

/** Guards every HTTP/2 session of `h2`: by streams open, not by bytes. */
export function guardHttp2(h2: http2.Http2Server, o: GuardOptions): void {
  const deadlines = new Deadlines();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    let open = 0;
    const expire = () => session.destroy();
    deadlines.arm(session, o.headersTimeoutMs, expire);
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      deadlines.clear(session);
      stream.once("close", () => {
        if (--open === 0 && !session.destroyed) deadlines.arm(session, o.idleTimeoutMs, expire);
      });
    });
    session.once("close", () => deadlines.clear(session));
  });
}
