/**
 * Child process for the fs crash test: starts an atomic write of `key` into the store at
 * `root`, prints "half" once the first chunk is on its way to disk, then stalls until killed.
 * Usage: node --import tsx test/support/fs-half-writer.ts ROOT KEY
 */
import { FsBlobStore } from "../../builder/store/fs.ts";

const [root, key] = process.argv.slice(2);
if (!root || !key) throw new Error("usage: fs-half-writer.ts ROOT KEY");

async function* stallingSource(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(1024 * 1024).fill(7);
  // Resumed only after the first chunk was written: announce it, then never finish.
  process.stdout.write("half\n");
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  yield new Uint8Array(1);
}

await new FsBlobStore(root).writeAtomically(key, stallingSource());
