import { execFile, execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { createClient, Code, ConnectError } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { BuilderService } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";
import { authMetadata, builderClient, errorDetail, type WireBuildEvent } from "../../builder/cli/grpc-client.ts";
import { testpkgsWith } from "../support/nix.ts";
import { startTestBuilder, type TestBuilder } from "../support/builder.ts";

// The build service with real Nix over nix/testpkgs (plus a slow package), served over gRPC.
const TOKEN = "builder-test-token";
let b: TestBuilder;

beforeAll(async () => {
  const fixture = mkdtempSync(join(tmpdir(), "nixport-slowpkgs-"));
  testpkgsWith(
    fixture,
    `  slow = t.lib.mkPkg { pname = "slow"; version = "1"; description = "sleeps"; script = "sleep 600"; };
  # New for every run (the nonce), so Nix really builds it each time.
  pause = t.lib.mkPkg { pname = "pause"; version = "1"; description = "sleeps a little"; script = "sleep 4 # ${randomUUID()}"; };`,
  );
  b = await startTestBuilder({ token: TOKEN, env: { NIXPORT_PKGS_PATH: fixture } });
}, 60_000);
afterAll(() => b?.stop());

function build(packages: string[], opts: { token?: string; signal?: AbortSignal; cancelIfAbandoned?: boolean } = {}) {
  const client = builderClient(b.address);
  return new Promise<{ events: WireBuildEvent[]; error?: grpc.ServiceError }>((resolve) => {
    const events: WireBuildEvent[] = [];
    const call = client.build({ packages, tag: "latest", cancelIfAbandoned: opts.cancelIfAbandoned ?? false }, authMetadata(opts.token ?? TOKEN));
    opts.signal?.addEventListener("abort", () => call.cancel());
    call.on("data", (e: WireBuildEvent) => events.push(e));
    call.on("error", (error: grpc.ServiceError) => (client.close(), resolve({ events, error })));
    call.on("end", () => (client.close(), resolve({ events })));
  });
}

const count = (cmd: string) => b.nixCalls.filter((c) => c === cmd).length;

/** Waits until a process with exactly these arguments runs (a test package's builder). */
async function running(args: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").some((l) => l.trim() === args)) {
    if (Date.now() > deadline) throw new Error(`${args} never started`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("builder service with real Nix", () => {
  it("streams ordered phases, every layer, then the manifest to a grpc-js client", async () => {
    const { events, error } = await build(["hello", "jq"]);
    expect(error).toBeUndefined();
    const phases = events.filter((e) => e.event === "phase").map((e) => e.phase!.phase);
    expect(phases).toEqual([
      "PHASE_RESOLVING_SOURCE",
      "PHASE_CHECKING_NAMES",
      "PHASE_REALISING",
      "PHASE_PLANNING",
      "PHASE_WRITING_LAYERS",
      "PHASE_WRITING_MANIFEST",
      "PHASE_DONE",
    ]);
    const layers = events.filter((e) => e.event === "layer").map((e) => e.layer!);
    expect(layers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(layers.map((l) => l.index)).size).toBe(layers.length);
    expect(layers.every((l) => l.count === layers.length)).toBe(true);
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    const [docker, oci] = done.done!.manifests;
    expect(docker!.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(oci!.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const manifest = JSON.parse(docker!.content.toString());
    expect(manifest.layers.map((l: { digest: string }) => l.digest)).toEqual(layers.sort((x, y) => x.index - y.index).map((l) => l.digest));
    expect(done.done!.packages).toEqual(["hello", "jq"]);
  });

  it("gives a Connect (gRPC-web) client the same image", async () => {
    const client = createClient(BuilderService, createGrpcWebTransport({ baseUrl: `http://${b.address}`, httpVersion: "1.1" }));
    let digest = "";
    for await (const ev of client.build({ packages: ["jq", "hello"] }, { headers: { authorization: `Bearer ${TOKEN}` } })) {
      if (ev.event.case === "done") digest = ev.event.value.manifests[0]!.digest;
    }
    const again = await build(["hello", "jq"]);
    expect(digest).toBe(again.events.at(-1)!.done!.manifests[0]!.digest);
  });

  it("runs 20 concurrent identical calls as one Nix realisation", async () => {
    const before = count("nix-build");
    const results = await Promise.all(Array.from({ length: 20 }, () => build(["htop", "less", "nano"])));
    expect(count("nix-build") - before).toBe(1);
    const digests = new Set(results.map((r) => r.events.at(-1)?.done?.manifests[0]?.digest));
    expect(digests.size).toBe(1);
    expect([...digests][0]).toMatch(/^sha256:/);
  });

  it("answers NOT_FOUND listing every unknown package, without building", async () => {
    const before = count("nix-build");
    const { error } = await build(["hello", "nosuch", "python3packages.nosuch"]);
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(errorDetail(error!)?.unknownPackages).toEqual(["nosuch", "python3packages.nosuch"]);
    expect(count("nix-build")).toBe(before);
  });

  it("refuses a call without the token, and runs nothing", async () => {
    const before = b.nixCalls.length;
    const { error, events } = await build(["hello"], { token: "" });
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(events).toEqual([]);
    expect(b.nixCalls.length).toBe(before);
  });

  it("reports a failed build as FAILED_PRECONDITION with the log tail", async () => {
    const { error } = await build(["broken"]);
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errorDetail(error!)?.logTail).toContain("broken on purpose");
    // A retry soon after gets the same answer without running Nix again.
    const before = b.nixCalls.length;
    const again = await build(["broken"]);
    expect(again.error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errorDetail(again.error!)?.logTail).toContain("broken on purpose");
    expect(b.nixCalls.length).toBe(before);
  });

  it("stops Nix when the only caller cancels, asking for that", async () => {
    const ac = new AbortController();
    const pending = build(["slow"], { signal: ac.signal, cancelIfAbandoned: true });
    await running("sleep 600");
    ac.abort();
    const { error } = await pending;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    const gone = Date.now() + 15_000;
    while (execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").some((l) => l.trim() === "sleep 600")) {
      if (Date.now() > gone) throw new Error("the Nix build outlived its cancelled call");
      await new Promise((r) => setTimeout(r, 100));
    }
    // nix-build itself exits a moment after its builder: the flight ends when it has.
    while (b.builder.flights.size > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(b.builder.flights.size).toBe(0);
  });

  it("goes on building when its only caller leaves; the next call gets that build, with no second Nix run", async () => {
    const ac = new AbortController();
    const before = count("nix-build");
    const pending = build(["pause"], { signal: ac.signal });
    await running("sleep 4");
    ac.abort();
    expect((await pending).error?.code).toBe(grpc.status.CANCELLED);
    const { events, error } = await build(["pause"]);
    expect(error).toBeUndefined();
    expect(events.at(-1)?.event).toBe("done");
    expect(count("nix-build") - before).toBe(1);
  });

  it("builds with the nixport-build CLI, which prints the manifest digest", async () => {
    const bin = new URL("../../builder/cli/bin.mjs", import.meta.url).pathname;
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "--builder", b.address, "--token", TOKEN, "hello"], (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(out.stderr).toContain("realising");
    const viaGrpc = await build(["hello"]);
    expect(out.stdout.trim()).toBe(viaGrpc.events.at(-1)!.done!.manifests[0]!.digest);
    // --sbom and --provenance write the documents the final event carries, named by its digests.
    const dir = mkdtempSync(join(tmpdir(), "nixport-cli-docs-"));
    const docs = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "--builder", b.address, "--token", TOKEN, "--json", "--sbom", join(dir, "sbom.json"), "--provenance", join(dir, "prov.json"), "hello"], (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(docs.code, docs.stderr).toBe(0);
    const done = viaGrpc.events.at(-1)!.done!;
    expect(JSON.parse(docs.stdout)).toMatchObject({ sbom: done.sbom!.digest, provenance: done.provenance!.digest });
    const sbom = readFileSync(join(dir, "sbom.json"));
    expect(`sha256:${createHash("sha256").update(sbom).digest("hex")}`).toBe(done.sbom!.digest);
    expect(JSON.parse(sbom.toString()).spdxVersion).toBe("SPDX-2.3");
    expect(JSON.parse(readFileSync(join(dir, "prov.json"), "utf8")).predicateType).toBe("https://slsa.dev/provenance/v1");
    const fail = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [bin, "--builder", b.address, "--token", TOKEN, "nosuch"], (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })),
    );
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain("nosuch");
  });

  it("refuses an unusable request before building: zstd in a Docker manifest", async () => {
    const client = createClient(BuilderService, createGrpcWebTransport({ baseUrl: `http://${b.address}`, httpVersion: "1.1" }));
    const err = await (async () => {
      try {
        for await (const _ of client.build({ packages: ["hello"], compression: 2, manifestFormat: 1 }, { headers: { authorization: `Bearer ${TOKEN}` } }));
      } catch (e) {
        return e as ConnectError;
      }
    })();
    expect(err?.code).toBe(Code.InvalidArgument);
  });
});
