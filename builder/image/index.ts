/** Image assembly: layer tars, the symlink forest, config and manifests. */
export { sha256Digest, digestHex } from "./digest.ts";
export { canonicalJson, canonicalJsonBytes } from "../../common/canonical-json.ts";
export { MEDIA_TYPES, layerMediaType, compressionOf, type Compression, type ManifestFormat } from "./media-types.ts";
export { storePathEntries, sortEntries, type TarEntry } from "./tar-entries.ts";
export { writeLayer, writeLayers, writeTarLayer, type LayerInput, type WriteLayerOptions, type WrittenLayer } from "./layer-writer.ts";
export { planForest, missingListings, resolveInForest, FOREST_DIRS, type ForestEntry, type PackageListing, type ListingNode } from "./forest.ts";
export { readListings, planForestFromStore, forestTarEntries, probeImage, type ImageFacts } from "./forest-read.ts";
export { buildImageConfig, imageConfigJson, CREATED, type ImageConfigInput, type ConfigBlob, type Architecture } from "./config.ts";
export { buildManifest, type ManifestInput, type ManifestBlob, type Descriptor } from "./manifest.ts";
export { baseSystemEntries, withBaseSystem, userConfig, type ImageUser } from "./base-system.ts";
export { checkSettings, type ImageSettings, type RawSettings } from "./settings.ts";
