/**
 * The Node server's access log: one JSON line per request, in the shape of the server's other
 * log lines (logLine), gathered and written once per turn of the event loop. Written one by
 * one they cost a tenth of a cached manifest GET: a system call each, to a pipe or a file.
 */
import { logLine } from "../../common/log.ts";
import type { AccessLogEntry } from "../app.ts";

/** Flush before this much text waits, whatever the event loop does. */
const MAX_PENDING = 64 * 1024;

/** ISO time of now, formatted once per millisecond: at tens of thousands of requests a second, most share it. */
function clock(): () => string {
  let ms = 0;
  let iso = "";
  return () => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      iso = new Date(now).toISOString();
    }
    return iso;
  };
}

export function accessLogLines(component: string, write: (text: string) => void = (t) => void process.stderr.write(t)): (entry: AccessLogEntry) => void {
  const time = clock();
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  // Lines of the last turn still reach the log when the process exits on purpose.
  process.once("exit", flush);
  return (entry) => {
    pending += logLine(time(), component, "request", entry);
    if (pending.length >= MAX_PENDING) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
