import { describe, expect, it } from "vitest";
import { BuildError } from "../../common/build-error.ts";
import { buildImageConfig, type ImageConfigInput } from "../../builder/image/config.ts";
import { checkSettings, type RawSettings } from "../../builder/image/settings.ts";

const parse = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));
const base: ImageConfigInput = { architecture: "amd64", diffIds: [`sha256:${"a".repeat(64)}`], packages: ["hello"], shell: "/bin/bash", caBundle: true };
const configOf = (raw: RawSettings) => parse(buildImageConfig({ ...base, settings: checkSettings(raw) }).bytes).config;
const long = "x".repeat(4097);

describe("checkSettings", () => {
  it("brings settings into one canonical form", () => {
    expect(checkSettings(undefined)).toEqual({});
    expect(checkSettings({ entrypoint: [], cmd: [], env: [], workingDir: "", user: "", labels: {}, exposedPorts: [] })).toEqual({});
    expect(
      checkSettings({ env: ["B=2", "A=x=y", "EMPTY="], exposedPorts: ["8080", "53/udp", "8080/tcp"], labels: { "z.b": "1", "a.b": "" }, cmd: ["sh", "-c", "echo a\nb"] }),
    ).toEqual({ env: ["A=x=y", "B=2", "EMPTY="], exposedPorts: ["53/udp", "8080/tcp"], labels: { "a.b": "", "z.b": "1" }, cmd: ["sh", "-c", "echo a\nb"] });
  });

  it.each<[string, RawSettings, RegExp]>([
    ["an argument with NUL", { entrypoint: ["a\u0000b"] }, /^settings\.entrypoint\[0\]: .*NUL/],
    ["a long argument", { cmd: ["ok", long] }, /^settings\.cmd\[1\]: longer than 4096 bytes/],
    ["too many arguments", { cmd: Array(129).fill("a") }, /^settings\.cmd: more than 128/],
    ["env without =", { env: ["A=1", "NOPE"] }, /^settings\.env\[1\]: expected NAME=value/],
    ["env name starting with a digit", { env: ["1A=1"] }, /^settings\.env\[0\]/],
    ["env name with a space", { env: ["A B=1"] }, /^settings\.env\[0\]/],
    ["env set twice", { env: ["A=1", "A=2"] }, /^settings\.env\[1\]: A is set twice/],
    ["relative working dir", { workingDir: "app" }, /^settings\.working_dir: must be an absolute path/],
    ["working dir with a newline", { workingDir: "/a\nb" }, /^settings\.working_dir: .*control/],
    ["user with a space", { user: "a b" }, /^settings\.user: expected/],
    ["user with two colons", { user: "1:2:3" }, /^settings\.user/],
    ["label key with a space", { labels: { "a b": "x" } }, /^settings\.labels\["a b"\]: keys are/],
    ["reserved label", { labels: { "nixport.packages": "x" } }, /^settings\.labels\["nixport\.packages"\]: is set by nixport/],
    ["revision label", { labels: { "org.opencontainers.image.revision": "x" } }, /is set by nixport/],
    ["long label value", { labels: { a: long } }, /^settings\.labels\["a"\]: longer/],
    ["port 0", { exposedPorts: ["0"] }, /^settings\.exposed_ports\[0\]: expected PORT/],
    ["port too big", { exposedPorts: ["80", "65536"] }, /^settings\.exposed_ports\[1\]/],
    ["unknown protocol", { exposedPorts: ["80/http"] }, /^settings\.exposed_ports\[0\]/],
    ["too much in all", { env: Array.from({ length: 20 }, (_, i) => `V${i}=${"v".repeat(4000)}`) }, /^settings: more than 65536 bytes/],
  ])("refuses %s, naming the field", (_what, raw, message) => {
    let error: unknown;
    try {
      checkSettings(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).kind).toBe("invalid_argument");
    expect((error as BuildError).message).toMatch(message);
  });

  it("accepts the user forms runtimes accept", () => {
    for (const user of ["root", "nonroot", "65532", "65532:65532", "app:staff", "_x-1:0"]) expect(checkSettings({ user }).user).toBe(user);
  });
});

describe("settings in the image config", () => {
  it("sets every field, over the defaults", () => {
    const c = configOf({ entrypoint: ["/bin/hello"], cmd: ["--greeting", "hi"], env: ["PATH=/opt/bin", "LANG=C.UTF-8"], workingDir: "/srv", user: "nobody", labels: { "org.example.team": "infra" }, exposedPorts: ["8080"] });
    expect(c).toMatchObject({ Entrypoint: ["/bin/hello"], Cmd: ["--greeting", "hi"], WorkingDir: "/srv", User: "nobody", ExposedPorts: { "8080/tcp": {} } });
    expect(c.Env).toEqual(["HOME=/nonexistent", "NIX_SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt", "SSL_CERT_FILE=/etc/ssl/certs/ca-bundle.crt", "LANG=C.UTF-8", "PATH=/opt/bin"]);
    expect(c.Labels).toMatchObject({ "org.example.team": "infra", "nixport.packages": "hello" });
  });

  it("a user of the image brings its home; another user, or HOME in env, does not", () => {
    const home = (raw: RawSettings, user?: "nonroot") => parse(buildImageConfig({ ...base, ...(user ? { user } : {}), settings: checkSettings(raw) }).bytes).config.Env[0];
    expect(home({ user: "nonroot" })).toBe("HOME=/home/nonroot");
    expect(home({ user: "65532:65532" })).toBe("HOME=/home/nonroot");
    expect(home({ user: "0" }, "nonroot")).toBe("HOME=/root");
    expect(home({ user: "1000:1000" }, "nonroot")).toBe("HOME=/home/nonroot");
    expect(home({ user: "1000" })).toBe("HOME=/root");
    expect(configOf({ user: "nonroot", env: ["HOME=/data"] }).Env).toContain("HOME=/data");
    expect(configOf({ user: "nonroot", env: ["HOME=/data"] }).Env).not.toContain("HOME=/home/nonroot");
  });

  it("an entrypoint without cmd drops the default shell command", () => {
    expect(configOf({ entrypoint: ["/bin/hello"] }).Cmd).toBeUndefined();
    expect(configOf({}).Cmd).toEqual(["/bin/bash"]);
    expect(configOf({ cmd: ["hello"] }).Cmd).toEqual(["hello"]);
  });

  it("the same settings in another order are the same config; other settings another", () => {
    const a = buildImageConfig({ ...base, settings: checkSettings({ env: ["A=1", "B=2"], exposedPorts: ["80", "443/tcp"] }) }).digest;
    expect(buildImageConfig({ ...base, settings: checkSettings({ env: ["B=2", "A=1"], exposedPorts: ["443", "80/tcp", "80"] }) }).digest).toBe(a);
    expect(buildImageConfig({ ...base, settings: checkSettings({ env: ["A=1", "B=3"], exposedPorts: ["80", "443/tcp"] }) }).digest).not.toBe(a);
    expect(buildImageConfig({ ...base, settings: checkSettings({}) }).digest).toBe(buildImageConfig(base).digest);
  });
});
