/**
 * Image settings a programmatic caller gives a build (the proto's ImageSettings): checked and
 * brought into one canonical form, pure. The canonical form is part of the image's key and
 * goes into the image config as it is, so two requests that mean the same settings (env or
 * ports in another order, `8080` and `8080/tcp`) are one image with one digest.
 */
import type { ImageSettings } from "../../common/image-request.ts";
import { BuildError } from "../../common/build-error.ts";

export type { ImageSettings };

/** Settings as they arrive (the generated proto message has this shape). */
export interface RawSettings {
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  env?: readonly string[];
  workingDir?: string;
  user?: string;
  labels?: Readonly<Record<string, string>>;
  exposedPorts?: readonly string[];
}

const MAX_ITEMS = 128;
const MAX_STRING = 4096;
/** All strings of one request together: a config stays small enough to fetch at once. */
const MAX_TOTAL = 64 * 1024;

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
/** A user or group: a name (as useradd allows) or a numeric id. */
const USER_PART = "(?:[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})";
const USER_RE = new RegExp(`^${USER_PART}(?::${USER_PART})?$`);
/** Label keys as OCI recommends: reverse-DNS-like, printable, no spaces. */
const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,254}$/;
const PORT_RE = /^([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
/** Labels nixport sets itself: a caller may not make an image lie about its contents or source. */
const RESERVED_LABEL = (key: string) => key.startsWith("nixport.") || key === "org.opencontainers.image.source" || key === "org.opencontainers.image.revision";

const invalid = (field: string, why: string) => new BuildError("invalid_argument", `settings.${field}: ${why}`);

/** A free-form string (an argument, a value): any characters but NUL, at most MAX_STRING bytes. */
function text(field: string, s: string): string {
  if (s.includes("\u0000")) throw invalid(field, "contains a NUL character");
  if (new TextEncoder().encode(s).length > MAX_STRING) throw invalid(field, `longer than ${MAX_STRING} bytes`);
  return s;
}

function list(field: string, items: readonly string[] | undefined): readonly string[] {
  const xs = items ?? [];
  if (xs.length > MAX_ITEMS) throw invalid(field, `more than ${MAX_ITEMS} entries`);
  return xs;
}

function args(field: string, items: readonly string[] | undefined): string[] | undefined {
  const xs = list(field, items).map((s, i) => text(`${field}[${i}]`, s));
  return xs.length ? xs : undefined;
}

function env(items: readonly string[] | undefined): string[] | undefined {
  const byName = new Map<string, string>();
  list("env", items).forEach((entry, i) => {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0 || !ENV_NAME_RE.test(name)) throw invalid(`env[${i}]`, "expected NAME=value, NAME of letters, digits and _ (not starting with a digit)");
    if (byName.has(name)) throw invalid(`env[${i}]`, `${name} is set twice`);
    byName.set(name, text(`env[${i}]`, entry));
  });
  const names = [...byName.keys()].sort();
  return names.length ? names.map((n) => byName.get(n)!) : undefined;
}

function workingDir(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  if (!dir.startsWith("/")) throw invalid("working_dir", "must be an absolute path");
  if (CONTROL_RE.test(dir)) throw invalid("working_dir", "contains a control character");
  return text("working_dir", dir);
}

function user(u: string | undefined): string | undefined {
  if (!u) return undefined;
  if (!USER_RE.test(u)) throw invalid("user", "expected user, uid, user:group or uid:gid (lowercase names of at most 32 characters, or numbers)");
  return u;
}

function labels(map: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  const keys = Object.keys(map ?? {}).sort();
  if (keys.length > MAX_ITEMS) throw invalid("labels", `more than ${MAX_ITEMS} entries`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!LABEL_KEY_RE.test(key)) throw invalid(`labels[${JSON.stringify(key.slice(0, 64))}]`, "keys are letters, digits and . _ - /, starting with a letter or digit, at most 255 characters");
    if (RESERVED_LABEL(key)) throw invalid(`labels[${JSON.stringify(key)}]`, "is set by nixport itself");
    out[key] = text(`labels[${JSON.stringify(key)}]`, map![key]!);
  }
  return keys.length ? out : undefined;
}

function ports(items: readonly string[] | undefined): string[] | undefined {
  const out = new Set<string>();
  list("exposed_ports", items).forEach((p, i) => {
    const m = PORT_RE.exec(p);
    const port = m ? Number(m[1]) : 0;
    if (!m || port < 1 || port > 65535) throw invalid(`exposed_ports[${i}]`, "expected PORT or PORT/tcp|udp|sctp, PORT from 1 to 65535");
    out.add(`${port}/${m[2] ?? "tcp"}`);
  });
  return out.size ? [...out].sort() : undefined;
}

/** Checks settings and returns their canonical form; throws INVALID_ARGUMENT naming the field. */
export function checkSettings(raw: RawSettings | undefined): ImageSettings {
  if (!raw) return {};
  const s: ImageSettings = {
    entrypoint: args("entrypoint", raw.entrypoint),
    cmd: args("cmd", raw.cmd),
    env: env(raw.env),
    workingDir: workingDir(raw.workingDir),
    user: user(raw.user),
    labels: labels(raw.labels),
    exposedPorts: ports(raw.exposedPorts),
  };
  for (const k of Object.keys(s) as (keyof ImageSettings)[]) if (s[k] === undefined) delete s[k];
  const total = new TextEncoder().encode(JSON.stringify(s)).length;
  if (total > MAX_TOTAL) throw new BuildError("invalid_argument", `settings: more than ${MAX_TOTAL} bytes in all`);
  return s;
}

/** The name of an env entry (`NAME=value` → `NAME`). */
export const envName = (entry: string) => entry.slice(0, entry.indexOf("="));
