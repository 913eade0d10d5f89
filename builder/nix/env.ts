/**
 * The environments nixport's child processes (Nix, git) run in: made for them, never the
 * builder's own. The builder's environment holds the S3 secret and the builder token; a
 * package set evaluated or built with it could copy them into an image anyone may pull.
 */

/**
 * Host folders evaluation may read by default (NIXPORT_NIX_ALLOWED_PATHS): the host's
 * programs (the test package set imports the host's static busybox from there, and for
 * aarch64-linux the arm64 one that `nix/setup-host.sh --arm64` unpacks), never
 * configuration or data.
 */
export const DEFAULT_ALLOWED_PATHS = ["/bin", "/usr/bin", "/usr/local/lib/nixport/aarch64-linux"];

/** What Nix and git need to run as configured on this host. */
const BASE_NAMES = [
  "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR",
  // Reaching remotes: certificates, proxies, an ssh agent (a channel download, a git fetch).
  "SSL_CERT_FILE", "NIX_SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND",
  "http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
];
/** Nix's own settings (store location, nix.conf overrides), except NIX_PATH: nixport sets the search path itself. */
const NIX_SETTING_RE = /^NIX_(?!PATH$)[A-Z_]+$/;
/** Never passed on, even when the operator names them. */
const SECRET_RE = /^(AWS_|NIXPORT_)/;

/**
 * The environment for a tool: the base names, Nix's settings and the operator's `extraNames`,
 * taken from `env`; nothing named AWS_* or NIXPORT_*.
 */
export function toolEnv(env: NodeJS.ProcessEnv, extraNames: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || SECRET_RE.test(name)) continue;
    if (BASE_NAMES.includes(name) || NIX_SETTING_RE.test(name) || extraNames.includes(name)) out[name] = value;
  }
  return out;
}

/** A comma- or colon-separated list setting (NIXPORT_NIX_ENV, NIXPORT_NIX_ALLOWED_PATHS, NIXPORT_PKGS_REFS). */
export function listSetting(raw: string | undefined, fallback: readonly string[]): string[] {
  if (raw === undefined) return [...fallback];
  return raw.split(/[,:]/).map((s) => s.trim()).filter(Boolean);
}
