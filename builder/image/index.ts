/** Image assembly, pure: digests, media types, the symlink forest's plan, config, manifests, the base system, settings. Reading the store and writing tars is builder/image-io/. */
export { sha256Digest, digestHex } from "./digest.ts";
export { canonicalJson, canonicalJsonBytes } from "../../common/canonical-json.ts";
export { MEDIA_TYPES, layerMediaType, compressionOf, type Compression, type ManifestFormat } from "./media-types.ts";
export { planForest, missingListings, resolveInForest, FOREST_DIRS, type ForestEntry, type PackageListing, type ListingNode } from "./forest.ts";
export { buildImageConfig, imageConfigJson, CREATED, type ImageConfigInput, type ConfigBlob, type Architecture } from "./config.ts";
export { buildManifest, type ManifestInput, type ManifestBlob, type Descriptor } from "./manifest.ts";
export { baseSystemEntries, withBaseSystem, userConfig, type ImageUser } from "./base-system.ts";
export { checkSettings, type ImageSettings, type RawSettings } from "./settings.ts";
