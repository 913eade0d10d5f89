/**
 * Child process of the `write` benchmark: writes one layer and prints, as one JSON line,
 * how long it took and the process's peak RSS, so the writer's memory is measured alone.
 * argv: storeRoot outDir compression storePath...
 */
import { rm } from "node:fs/promises";
import { writeLayer } from "../../builder/image-io/layer-writer.ts";

const [storeRoot, outDir, compression, ...storePaths] = process.argv.slice(2);
if (!storeRoot || !outDir || (compression !== "gzip" && compression !== "zstd")) {
  throw new Error("usage: write-child.ts storeRoot outDir gzip|zstd storePath...");
}
const start = performance.now();
const layer = await writeLayer(storePaths, { storeRoot, outDir, compression });
const seconds = (performance.now() - start) / 1000;
await rm(layer.file);
const maxRssKb = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ seconds, size: layer.size, digest: layer.digest, maxRssMb: maxRssKb / 1024 }));
