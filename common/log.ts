/** One structured log line (JSON) per event, on stderr. */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** A log line: `{time, component, msg, …fields}` as JSON, with its newline. */
export function logLine(time: string, component: string, msg: string, fields: object = {}): string {
  return `${JSON.stringify({ time, component, msg, ...fields })}\n`;
}

export function jsonLog(component: string): Log {
  return (msg, fields = {}) => {
    process.stderr.write(logLine(new Date().toISOString(), component, msg, fields));
  };
}
