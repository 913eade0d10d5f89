/**
 * Optional pull authentication: the registry Bearer-token flow that docker, podman, skopeo and
 * containerd speak. Off unless credentials are configured.
 *
 *   GET /v2/…            → 401 UNAUTHORIZED, WWW-Authenticate: Bearer realm="<origin>/token",service=…,scope=…
 *   GET /token (Basic)   → {"token", "access_token", "expires_in", "issued_at"}
 *   GET /v2/… (Bearer)   → served
 *
 * Tokens are `<base64url payload>.<base64url HMAC-SHA256>` signed with a secret only the edge
 * holds; they grant pull on every repository until they expire. WebCrypto only, so the same
 * code runs in workerd and Node.
 */
import { RegistryError } from "./errors.ts";

export interface PullAuthConfig {
  /** username → password. */
  users: ReadonlyMap<string, string>;
  /** HMAC key for tokens. */
  secret: string;
  /** Shown in the challenge (default "nixport"). */
  service?: string;
  tokenTtlSeconds?: number;
}

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Compares in time independent of where the first difference is. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export class PullAuth {
  private readonly key: Promise<CryptoKey>;
  private readonly service: string;
  private readonly ttl: number;

  constructor(private readonly cfg: PullAuthConfig, private readonly now: () => number = Date.now) {
    if (!cfg.secret) throw new Error("pull authentication needs a token secret");
    this.key = crypto.subtle.importKey("raw", enc.encode(cfg.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    this.service = cfg.service ?? "nixport";
    this.ttl = cfg.tokenTtlSeconds ?? 300;
  }

  /** The 401 a request without a valid token gets, with the challenge that starts the flow. */
  challenge(origin: string, scope?: string): RegistryError {
    const parts = [`realm="${origin}/token"`, `service="${this.service}"`];
    if (scope) parts.push(`scope="${scope}"`);
    return new RegistryError(401, "UNAUTHORIZED", "authentication required", null, { "WWW-Authenticate": `Bearer ${parts.join(",")}` });
  }

  /** True when the Authorization header carries a valid, unexpired token (or valid Basic credentials). */
  async allows(authorization: string | undefined): Promise<boolean> {
    if (!authorization) return false;
    const bearer = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i.exec(authorization);
    if (bearer) return this.verify(bearer[1]!, bearer[2]!);
    return this.basicUser(authorization) !== null;
  }

  /** The token endpoint's answer for a request's Authorization header, or null when refused. */
  async issue(authorization: string | undefined): Promise<Record<string, unknown> | null> {
    const user = this.basicUser(authorization);
    if (user === null) return null;
    const issued = Math.floor(this.now() / 1000);
    const payload = b64url(enc.encode(JSON.stringify({ sub: user, exp: issued + this.ttl })));
    const token = `${payload}.${await this.sign(payload)}`;
    return { token, access_token: token, expires_in: this.ttl, issued_at: new Date(issued * 1000).toISOString() };
  }

  private basicUser(authorization: string | undefined): string | null {
    const m = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization) : null;
    if (!m) return null;
    let decoded: string;
    try {
      decoded = atob(m[1]!);
    } catch {
      return null;
    }
    const i = decoded.indexOf(":");
    if (i < 0) return null;
    const user = decoded.slice(0, i);
    const expected = this.cfg.users.get(user);
    if (expected === undefined) return null;
    return sameBytes(enc.encode(decoded.slice(i + 1)), enc.encode(expected)) ? user : null;
  }

  private async sign(payload: string): Promise<string> {
    return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, enc.encode(payload))));
  }

  private async verify(payload: string, signature: string): Promise<boolean> {
    const sig = fromB64url(signature);
    const expected = fromB64url(await this.sign(payload));
    if (!sig || !expected || !sameBytes(sig, expected)) return false;
    const body = fromB64url(payload);
    if (!body) return false;
    try {
      const { exp } = JSON.parse(new TextDecoder().decode(body)) as { exp?: unknown };
      return typeof exp === "number" && exp * 1000 > this.now();
    } catch {
      return false;
    }
  }
}

/** Parses `user:password,user2:password2` (passwords may contain ':'; not ','). */
export function parseCredentials(text: string | undefined): Map<string, string> {
  const users = new Map<string, string>();
  for (const item of (text ?? "").split(",")) {
    const i = item.indexOf(":");
    if (i > 0) users.set(item.slice(0, i).trim(), item.slice(i + 1));
  }
  return users;
}
