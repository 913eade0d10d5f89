import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podman, skopeo } from "../support/clients.ts";
import { startRegistry, type RunningRegistry } from "../support/registry.ts";

// Real arm64 content on an x86_64 host: the all-in-one server builds arm64/hello for
// aarch64-linux (Nix's extra-platforms through qemu-user, `nix/setup-host.sh --arm64`), and
// podman runs it under emulation. Only hello: every arm64 build step runs under qemu.
let registry: RunningRegistry;
const run = podman();

beforeAll(async () => {
  registry = await startRegistry();
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

describe("arm64 images under emulation", () => {
  it("podman --arch arm64 runs arm64/hello, an arm64 image, and it prints Hello, world!", async () => {
    const ref = `${registry.host}/arm64/hello:latest`;
    const r = await run(["run", "--rm", "--arch", "arm64", "--tls-verify=false", ref, "hello"]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout).toBe("Hello, world!\n");
    const config = await skopeo(["inspect", "--config", "--override-arch", "arm64", "--tls-verify=false", `docker://${ref}`]);
    expect(JSON.parse(config.stdout)).toMatchObject({ architecture: "arm64", os: "linux" });
  }, 600_000);
});
