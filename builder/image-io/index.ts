/** Image I/O: the store's listings and files as tar entries, layer writing (tar, gzip or zstd, hashing), the index blob. */
export { storePathEntries, sortEntries, type TarEntry } from "./tar-entries.ts";
export { writeLayer, writeLayers, writeTarLayer, type LayerInput, type WriteLayerOptions, type WrittenLayer } from "./layer-writer.ts";
export { readListings, planForestFromStore, forestTarEntries, probeImage, type ImageFacts } from "./forest-read.ts";
