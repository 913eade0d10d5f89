import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { chmod, link, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImageConfig } from "../../builder/image/config.ts";
import { buildManifest } from "../../builder/image/manifest.ts";
import { baseSystemEntries, withBaseSystem } from "../../builder/image/base-system.ts";
import { forestTarEntries, planForestFromStore, probeImage } from "../../builder/image-io/forest-read.ts";
import { writeLayer, writeLayers, writeTarLayer, type WrittenLayer } from "../../builder/image-io/layer-writer.ts";
import { storePathEntries, type TarEntry } from "../../builder/image-io/tar-entries.ts";

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const MiB = 1 << 20;
let root: string;
let store: string;
const paths = ["/nix/store/bbb-tool-1.0", "/nix/store/aaa-lib-2.0", "/nix/store/aaa-lib", "/nix/store/ccc-single"];
const longName = "d".repeat(120);

/** Deterministic bytes, partly compressible, big enough to span several compression blocks. */
function content(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0, x = 7; i < size; i++) b[i] = i % 3 === 0 ? (x = (Math.imul(x, 48271) + 11) >>> 0) >>> 24 : 65 + (i % 26);
  return b;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "nixport-layer-"));
  store = join(root, "store");
  const lib = join(store, "aaa-lib-2.0");
  await mkdir(join(lib, "lib/nested/deeper"), { recursive: true });
  await mkdir(join(lib, "share/empty"), { recursive: true });
  await mkdir(join(lib, "x"), { recursive: true });
  await writeFile(join(lib, "x-y"), "sorts before x/ in byte order\n");
  await writeFile(join(lib, "lib/libz.so.1"), content(3 * MiB + 17));
  await writeFile(join(lib, "lib/nested/deeper/empty-file"), "");
  await writeFile(join(lib, `lib/${longName}`), "long name needs pax\n");
  await symlink("libz.so.1", join(lib, "lib/libz.so"));
  await symlink(`/nix/store/bbb-tool-1.0/bin/${"t".repeat(110)}`, join(lib, "lib/long-target"));
  await link(join(lib, "lib/libz.so.1"), join(lib, "lib/hardlink.so")); // store optimisation
  const tool = join(store, "bbb-tool-1.0");
  await mkdir(join(tool, "bin"), { recursive: true });
  await writeFile(join(tool, "bin/tool"), "#!/bin/sh\necho hi\n");
  await chmod(join(tool, "bin/tool"), 0o555);
  await symlink("tool", join(tool, "bin/sh"));
  await mkdir(join(store, "aaa-lib"), { recursive: true });
  await writeFile(join(store, "aaa-lib/a"), "a");
  await writeFile(join(store, "ccc-single"), "a store path that is one file\n");
  // Store modes: read-only files and directories, set last (bottom-up).
  for (const f of ["x-y", "lib/libz.so.1", "lib/nested/deeper/empty-file", `lib/${longName}`]) await chmod(join(lib, f), 0o444);
  for (const d of ["lib/nested/deeper", "lib/nested", "lib", "share/empty", "share", "x", "."]) await chmod(join(lib, d), 0o555);
});

afterAll(async () => {
  // Store dirs are read-only; make them writable so they can be removed.
  spawnSync("chmod", ["-R", "u+w", root]);
  await rm(root, { recursive: true, force: true });
});

interface Listed {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  linkname: string | null;
  data: Buffer;
}

async function readTar(bytes: Buffer): Promise<Listed[]> {
  const extract = tar.extract();
  const out: Listed[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const h = entry.header;
      out.push({ name: h.name, type: h.type, mode: h.mode, mtime: h.mtime.getTime(), uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, linkname: h.linkname ?? null, data: Buffer.concat(chunks) });
    }
  })();
  Readable.from([bytes]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

const outDir = () => join(root, "out");
const gunzipCli = (file: string) => execFileSync("gzip", ["-dc", file], { maxBuffer: 64 * MiB });
const unzstdCli = (file: string) => execFileSync("zstd", ["-dc", file], { maxBuffer: 64 * MiB });

describe.each(["gzip", "zstd"] as const)("writeLayer (%s)", (compression) => {
  let layer: WrittenLayer;
  let tarBytes: Buffer;
  beforeAll(async () => {
    layer = await writeLayer(paths, { storeRoot: store, outDir: outDir(), compression });
    tarBytes = compression === "gzip" ? gunzipCli(layer.file) : unzstdCli(layer.file);
  });

  it("names the file by its digest and reports digest, size and media type", () => {
    const blob = readFileSync(layer.file);
    expect(layer.digest).toBe(sha256(blob));
    expect(layer.size).toBe(blob.length);
    const ext = compression === "gzip" ? "gz" : "zst";
    expect(layer.file.startsWith(join(outDir(), `${layer.digest.slice(7)}.`)) && layer.file.endsWith(`.tar.${ext}`)).toBe(true);
    expect(layer.mediaType).toBe(`application/vnd.oci.image.layer.v1.tar+${compression}`);
  });

  it("diffId is the sha256 of the decompressed tar (CLI and, for gzip, Node's gunzip)", () => {
    expect(layer.diffId).toBe(sha256(tarBytes));
    if (compression === "gzip") expect(gunzipSync(readFileSync(layer.file)).equals(tarBytes)).toBe(true);
  });

  it("writes sorted entries with fixed metadata, store modes, symlinks and hard links as files", async () => {
    const entries = await readTar(tarBytes);
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(names.slice(0, 3)).toEqual(["nix/", "nix/store/", "nix/store/aaa-lib-2.0/"]);
    // "-" sorts before "/": a name's longer sibling comes before the directory's contents.
    expect(names.indexOf("nix/store/aaa-lib/")).toBeGreaterThan(names.lastIndexOf("nix/store/aaa-lib-2.0/x/"));
    expect(names.indexOf("nix/store/aaa-lib-2.0/x-y")).toBeLessThan(names.indexOf("nix/store/aaa-lib-2.0/x/"));
    for (const e of entries) {
      expect(e).toMatchObject({ mtime: 1000, uid: 0, gid: 0, uname: "", gname: "" });
    }
    const by = new Map(entries.map((e) => [e.name, e]));
    const lib = "nix/store/aaa-lib-2.0";
    expect(by.get(`${lib}/lib/`)).toMatchObject({ type: "directory", mode: 0o555 });
    expect(by.get(`${lib}/share/empty/`)).toMatchObject({ type: "directory", mode: 0o555 });
    expect(by.get(`${lib}/lib/libz.so.1`)).toMatchObject({ type: "file", mode: 0o444 });
    expect(by.get(`${lib}/lib/libz.so.1`)!.data.equals(content(3 * MiB + 17))).toBe(true);
    expect(by.get(`${lib}/lib/hardlink.so`)).toMatchObject({ type: "file", mode: 0o444 });
    expect(by.get(`${lib}/lib/hardlink.so`)!.data.equals(content(3 * MiB + 17))).toBe(true);
    expect(by.get(`${lib}/lib/nested/deeper/empty-file`)).toMatchObject({ type: "file", data: Buffer.alloc(0) });
    expect(by.get(`${lib}/lib/${longName}`)!.data.toString()).toBe("long name needs pax\n");
    expect(by.get(`${lib}/lib/libz.so`)).toMatchObject({ type: "symlink", linkname: "libz.so.1" });
    expect(by.get(`${lib}/lib/long-target`)!.linkname).toBe(`/nix/store/bbb-tool-1.0/bin/${"t".repeat(110)}`);
    expect(by.get("nix/store/bbb-tool-1.0/bin/tool")).toMatchObject({ type: "file", mode: 0o555 });
    expect(by.get("nix/store/ccc-single")).toMatchObject({ type: "file", data: Buffer.from("a store path that is one file\n") });
    expect(entries.filter((e) => e.name === "nix/store/")).toHaveLength(1);
  });

  it("is accepted by GNU tar, which extracts the same tree", async () => {
    const listing = execFileSync("tar", ["-tf", "-"], { input: tarBytes, encoding: "utf8" }).trim().split("\n");
    expect(listing).toEqual((await readTar(tarBytes)).map((e) => e.name));
    const dest = join(root, `extract-${compression}`);
    await mkdir(dest);
    execFileSync("tar", ["-xf", "-", "-C", dest], { input: tarBytes });
    const lib = join(dest, "nix/store/aaa-lib-2.0/lib");
    expect(readFileSync(join(lib, "libz.so")).equals(content(3 * MiB + 17))).toBe(true); // via the symlink
    expect(readdirSync(join(dest, "nix/store/aaa-lib-2.0/share/empty"))).toEqual([]);
  });

  it("writes the same bytes again, whatever the order of the store paths", async () => {
    const again = await writeLayer([...paths].reverse(), { storeRoot: store, outDir: join(root, `again-${compression}`), compression });
    expect({ ...again, file: "" }).toEqual({ ...layer, file: "" });
    expect(readFileSync(again.file).equals(readFileSync(layer.file))).toBe(true);
  });

  it("gives two writers of the same layer in one folder a file each, so removing one leaves the other", async () => {
    const [a, b] = await Promise.all([1, 2].map(() => writeLayer(paths, { storeRoot: store, outDir: outDir(), compression })));
    expect(a!.digest).toBe(layer.digest);
    expect(b!.file).not.toBe(a!.file);
    await rm(a!.file);
    expect(sha256(readFileSync(b!.file))).toBe(layer.digest);
    await rm(b!.file);
  });

  it("leaves no file behind when aborted mid-layer", async () => {
    const dir = join(root, `aborted-${compression}`);
    const abort = new AbortController();
    async function* abortingSoon(): AsyncGenerator<TarEntry> {
      for await (const e of storePathEntries(paths, store)) {
        yield e;
        if (e.name.endsWith("libz.so.1")) setTimeout(() => abort.abort(new Error("stop")), 1);
      }
    }
    await expect(writeTarLayer(abortingSoon(), { outDir: dir, compression, signal: abort.signal })).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves no file behind when reading fails mid-layer", async () => {
    const dir = join(root, `failed-${compression}`);
    async function* failing(): AsyncGenerator<TarEntry> {
      for await (const e of storePathEntries(paths, store)) {
        yield e;
        if (e.name.endsWith("libz.so.1")) throw new Error("disk on fire");
      }
    }
    await expect(writeTarLayer(failing(), { outDir: dir, compression })).rejects.toThrow("disk on fire");
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("writeLayers", () => {
  it("writes several layers in parallel, each as writeLayer would", async () => {
    const dir = join(root, "many");
    const [a, b, c] = await writeLayers([{ storePaths: [paths[0]!] }, { storePaths: [paths[1]!, paths[3]!] }, { entries: [] }], { storeRoot: store, outDir: dir, parallel: 2 });
    expect(a!.digest).toBe((await writeLayer([paths[0]!], { storeRoot: store, outDir: join(dir, "one") })).digest);
    expect(b!.digest).toBe((await writeLayer([paths[3]!, paths[1]!], { storeRoot: store, outDir: join(dir, "one") })).digest);
    // An empty tar is two zero blocks.
    expect(c!.diffId).toBe(sha256(Buffer.alloc(1024)));
  });

  it("writes nothing when the caller has already aborted", async () => {
    const dir = join(root, "pre-aborted");
    await expect(writeLayers([{ storePaths: [paths[0]!] }], { storeRoot: store, outDir: dir, signal: AbortSignal.abort() })).rejects.toThrow();
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it("fails as a whole when one layer fails, leaving no partial file", async () => {
    const dir = join(root, "bad");
    const inputs = [{ storePaths: [paths[1]!] }, { storePaths: ["/nix/store/zzz-missing"] }, { storePaths: [paths[0]!] }];
    await expect(writeLayers(inputs, { storeRoot: store, outDir: dir })).rejects.toThrow(/ENOENT/);
    expect((await readdir(dir)).filter((n) => n.startsWith(".partial"))).toEqual([]);
  });
});

describe("writeLayer's zstd", () => {
  // A zstd that reads a little and dies, as a broken or missing binary would.
  async function withZstd<T>(script: string, run: () => Promise<T>): Promise<T> {
    const bin = join(root, `zstd-${Math.random().toString(36).slice(2)}`);
    await writeFile(bin, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    const before = process.env.NIXPORT_ZSTD;
    process.env.NIXPORT_ZSTD = bin;
    try {
      return await run();
    } finally {
      if (before === undefined) delete process.env.NIXPORT_ZSTD;
      else process.env.NIXPORT_ZSTD = before;
    }
  }

  it("reports zstd's own failure (not the broken pipe it caused) and leaves no file", async () => {
    const dir = join(root, "zstd-dies");
    const write = () => writeLayer(paths, { storeRoot: store, outDir: dir, compression: "zstd" });
    await expect(withZstd("head -c 1000 > /dev/null; echo 'zstd: broken on purpose' >&2; exit 3", write)).rejects.toThrow("zstd exited with 3: zstd: broken on purpose");
    expect(await readdir(dir)).toEqual([]);
  });

  it("a full disk under zstd is ENOSPC (which the pipeline answers as retryable), and leaves no file", async () => {
    const dir = join(root, "zstd-full");
    await mkdir(dir);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]);
    try {
      const err = await writeLayer(paths, { storeRoot: store, outDir: dir, compression: "zstd" }).catch((e: NodeJS.ErrnoException) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
      expect(await readdir(dir)).toEqual([]);
    } finally {
      execFileSync("umount", [dir]);
    }
  });

  it("takes digest and size from the bytes the compressor wrote to the file", async () => {
    const dir = join(root, "zstd-cat");
    const layer = await withZstd("cat", () => writeLayer(paths, { storeRoot: store, outDir: dir, compression: "zstd" }));
    // `cat` as zstd: the file holds the tar itself, and digest and size are of the file's bytes.
    const bytes = readFileSync(layer.file);
    expect(layer.size).toBe(bytes.length);
    expect(layer.digest).toBe(sha256(bytes));
    expect(layer.diffId).toBe(sha256(bytes));
  });
});

describe("symlink-forest layer", () => {
  it("finds a CA bundle behind a linked /etc/ssl, and prefers bash as the shell", async () => {
    const certs = join(root, "store2/eee-cacert/etc/ssl/certs");
    await mkdir(certs, { recursive: true });
    await writeFile(join(certs, "ca-bundle.crt"), "-----BEGIN CERTIFICATE-----\n");
    await mkdir(join(root, "store2/fff-bash/bin"), { recursive: true });
    await writeFile(join(root, "store2/fff-bash/bin/bash"), "");
    await writeFile(join(root, "store2/fff-bash/bin/sh"), "");
    const outputs = ["/nix/store/eee-cacert", "/nix/store/fff-bash"];
    const entries = await planForestFromStore(outputs, join(root, "store2"));
    expect(await probeImage(entries, join(root, "store2"))).toEqual({ shell: "/bin/bash", caBundle: true });
    expect(await probeImage(await planForestFromStore(outputs.slice(1), join(root, "store2")), join(root, "store2"))).toEqual({ shell: "/bin/bash", caBundle: false });
  });

  it("refuses an output that does not exist", async () => {
    await expect(planForestFromStore(["/nix/store/zzz-missing"], store)).rejects.toThrow(/ENOENT/);
  });

  it("links the packages' bin into /bin, finds a shell, and writes a valid layer", async () => {
    const entries = await planForestFromStore(["/nix/store/bbb-tool-1.0", "/nix/store/ccc-single", "/nix/store/aaa-lib-2.0"], store);
    const facts = await probeImage(entries, store);
    expect(facts).toEqual({ shell: "/bin/sh", caBundle: false });
    const layer = await writeTarLayer(forestTarEntries(entries), { outDir: join(root, "forest") });
    const listed = await readTar(gunzipCli(layer.file));
    expect(listed.map((e) => [e.name, e.type, e.mode.toString(8), e.linkname])).toEqual([
      ["bin/", "directory", "755", null],
      ["bin/sh", "symlink", "777", "/nix/store/bbb-tool-1.0/bin/sh"],
      ["bin/tool", "symlink", "777", "/nix/store/bbb-tool-1.0/bin/tool"],
      ["lib/", "directory", "755", null],
      ...["hardlink.so", "libz.so", "libz.so.1", "long-target", longName, "nested"].sort().map((n) => [`lib/${n}`, "symlink", "777", `/nix/store/aaa-lib-2.0/lib/${n}`]),
      ["share/", "directory", "755", null],
      ["share/empty", "symlink", "777", "/nix/store/aaa-lib-2.0/share/empty"],
      ["tmp/", "directory", "1777", null],
    ]);
  });
  it("writes the base system's files with their bytes, and nonroot's home owned by nonroot", async () => {
    const layer = await writeTarLayer(forestTarEntries(withBaseSystem([])), { outDir: join(root, "base") });
    const listed = await readTar(gunzipCli(layer.file));
    const passwd = baseSystemEntries().find((e) => e.path === "etc/passwd")!;
    expect(listed.find((e) => e.name === "etc/passwd")).toMatchObject({ type: "file", mode: 0o644, uid: 0, gid: 0, data: Buffer.from(passwd.type === "file" ? passwd.content : []) });
    expect(listed.find((e) => e.name === "home/nonroot/")).toMatchObject({ type: "directory", mode: 0o755, uid: 65532, gid: 65532 });
    expect(listed.find((e) => e.name === "root/")).toMatchObject({ type: "directory", mode: 0o700, uid: 0, gid: 0 });
    const again = await writeTarLayer(forestTarEntries(withBaseSystem([])), { outDir: join(root, "base2") });
    expect(again.digest).toBe(layer.digest);
  });
});

describe.runIf(existsSync("/usr/bin/umoci"))("a whole image", () => {
  it("is unpacked by umoci: layers, config and OCI manifest fit together", async () => {
    const layout = join(root, "oci");
    const blobs = join(layout, "blobs/sha256");
    await mkdir(blobs, { recursive: true });
    const forest = await planForestFromStore(["/nix/store/bbb-tool-1.0"], store);
    const layers = await writeLayers([{ storePaths: paths }, { entries: forestTarEntries(forest) }], { storeRoot: store, outDir: blobs });
    for (const l of layers) await rename(l.file, join(blobs, l.digest.slice(7)));
    const config = buildImageConfig({ architecture: "amd64", diffIds: layers.map((l) => l.diffId), packages: ["tool"], ...(await probeImage(forest, store)) });
    const manifest = buildManifest({ format: "oci", config, layers });
    await writeFile(join(blobs, config.digest.slice(7)), config.bytes);
    await writeFile(join(blobs, manifest.digest.slice(7)), manifest.bytes);
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const ref = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, annotations: { "org.opencontainers.image.ref.name": "latest" } };
    await writeFile(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [ref] }));
    const bundle = join(root, "bundle");
    execFileSync("umoci", ["unpack", "--image", `${layout}:latest`, bundle], { stdio: "pipe" });
    const rootfs = join(bundle, "rootfs");
    const link = readlinkSync(join(rootfs, "bin/tool")); // absolute: resolve it inside the rootfs
    expect(link).toBe("/nix/store/bbb-tool-1.0/bin/tool");
    expect(readFileSync(join(rootfs, link), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(statSync(join(rootfs, "tmp")).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(join(rootfs, "nix/store/aaa-lib-2.0/lib/libz.so")).equals(content(3 * MiB + 17))).toBe(true);
    const runtime = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    expect(runtime.process.args).toEqual(["/bin/sh"]);
  });
});

describe.runIf(existsSync("/nix/store"))("on the real store", () => {
  it("writes a real store path deterministically", async () => {
    // A small, well-known path (busybox is what nix/testpkgs builds with), when there is one.
    const some = readdirSync("/nix/store").filter((n) => /-busybox/.test(n) && !n.endsWith(".drv")).slice(0, 1).map((n) => `/nix/store/${n}`);
    if (some.length === 0) return;
    const a = await writeLayer(some, { outDir: join(root, "real-a") });
    const b = await writeLayer(some, { outDir: join(root, "real-b") });
    expect(b.digest).toBe(a.digest);
    expect(a.diffId).toBe(sha256(gunzipCli(a.file)));
  });
});
