/**
 * Whether a host (an IP literal or a name, as in a URL or a bind address) is this machine's
 * loopback: 127.0.0.0/8, ::1 (also IPv4-mapped) or localhost. The builder refuses to serve
 * anything else without a token, and the edge refuses to send its token in clear to anything else.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || /^(0{0,4}:){1,7}0{0,3}1$/.test(h)) return true;
  const v4 = h.replace(/^::ffff:/, "");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
