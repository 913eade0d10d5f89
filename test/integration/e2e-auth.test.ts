import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podman, skopeo } from "../support/clients.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// Pull authentication switched on: real clients go through the registry token flow.
let registry: RunningRegistry;
beforeAll(async () => {
  registry = await startRegistry({ NIXPORT_PULL_CREDENTIALS: "alice:in-wonderland" });
}, 60_000);
afterAll(() => registry?.stop());

describe("pull authentication with real clients", () => {
  it("refuses anonymous and wrong credentials, with no build", async () => {
    for (const creds of [[], ["--creds", "alice:wrong"]]) {
      const r = await skopeo(["inspect", "--tls-verify=false", ...creds, `docker://${registry.host}/hello:latest`]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/401|unauthorized|authentication required/i);
    }
    expect(registry.logs()).not.toContain('"build done"');
  });

  it("lets skopeo and podman pull with credentials", async () => {
    const r = await skopeo(["inspect", "--tls-verify=false", "--creds", "alice:in-wonderland", `docker://${registry.host}/hello:latest`]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Digest).toMatch(/^sha256:/);
    const run = podman();
    const pull = await run(["pull", "--tls-verify=false", "--creds", "alice:in-wonderland", `${registry.host}/hello:latest`]);
    expect(pull.code, pull.stderr).toBe(0);
    const p = await run(["run", "--rm", "--pull=never", `${registry.host}/hello:latest`, "hello"]);
    expect(p.stdout, p.stderr).toBe("Hello, world!\n");
  });
});
