import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/app.ts";
import { parseCredentials, PullAuth } from "../../edge/auth.ts";
import { MemoryBuilder } from "../edge/memory-builder.ts";
import { MemoryTagCache } from "../../edge/cache.ts";
import { MemoryBlobStore } from "../edge/memory-blobs.ts";

let clock = Date.parse("2026-11-22T00:00:00Z");
const auth = new PullAuth({ users: parseCredentials("alice:wonder:land,bob:builder"), secret: "k".repeat(32), tokenTtlSeconds: 300 }, () => clock);
const store = new MemoryBlobStore();
const builder = new MemoryBuilder({ packages: ["hello"], store });
const app = createApp({ blobs: store, builder, tagCache: new MemoryTagCache(60), auth });
const basic = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;

async function token(user: string, pass: string): Promise<string> {
  const r = await app.request("http://reg.example/token?service=nixport&scope=repository:hello:pull", { headers: { authorization: basic(user, pass) } });
  expect(r.status).toBe(200);
  const body = (await r.json()) as { token: string; access_token: string; expires_in: number };
  expect(body.access_token).toBe(body.token);
  expect(body.expires_in).toBe(300);
  return body.token;
}

describe("pull authentication (registry token flow)", () => {
  it("challenges an anonymous client with a Bearer realm on this host", async () => {
    const r = await app.request("http://reg.example/v2/hello/manifests/latest");
    expect(r.status).toBe(401);
    expect(r.headers.get("WWW-Authenticate")).toBe('Bearer realm="http://reg.example/token",service="nixport",scope="repository:hello:pull"');
    expect(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("UNAUTHORIZED");
    expect((await app.request("http://reg.example/v2/")).status).toBe(401);
    expect(builder.calls).toHaveLength(0);
  });

  it("issues a token for good credentials only", async () => {
    expect(await token("alice", "wonder:land")).toMatch(/^[\w-]+\.[\w-]+$/);
    for (const h of [basic("alice", "wonder"), basic("eve", "x"), "Basic !!!", "Bearer x.y", ""]) {
      const r = await app.request("http://reg.example/token", { headers: h ? { authorization: h } : {} });
      expect(r.status).toBe(401);
    }
  });

  it("serves a client with a valid token, and refuses a forged or expired one", async () => {
    const t = await token("bob", "builder");
    const ok = await app.request("http://reg.example/v2/hello/manifests/latest", { headers: { authorization: `Bearer ${t}` } });
    expect(ok.status).toBe(200);
    const [payload, sig] = t.split(".");
    const forged = `${btoa(JSON.stringify({ sub: "bob", exp: 9e9 })).replace(/=+$/, "")}.${sig}`;
    expect((await app.request("http://reg.example/v2/", { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await app.request("http://reg.example/v2/", { headers: { authorization: `Bearer ${payload}.AAAA` } })).status).toBe(401);
    clock += 301_000;
    expect((await app.request("http://reg.example/v2/", { headers: { authorization: `Bearer ${t}` } })).status).toBe(401);
  });

  it("keeps the landing page public and never reflects a hostile name into the challenge", async () => {
    expect((await app.request("http://reg.example/")).status).toBe(200);
    const r = await app.request('http://reg.example/v2/a"b/manifests/latest');
    expect(r.headers.get("WWW-Authenticate")).toBe('Bearer realm="http://reg.example/token",service="nixport"');
  });
});
