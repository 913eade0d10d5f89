/** One structured log line (JSON) per event, on stderr. */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export function jsonLog(component: string): Log {
  return (msg, fields = {}) => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component, msg, ...fields })}\n`);
  };
}
