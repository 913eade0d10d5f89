/** What every route handler receives besides the Hono context. */
import type { Context } from "hono";
import type { NameCheck } from "../name-check.ts";
import type { BlobReader } from "../storage/types.ts";
import type { BuilderClient } from "../builder/client.ts";
import type { RecordReader } from "../storage/records.ts";
import type { RecentBuilds } from "../recent.ts";
import type { TagResolver } from "../resolve.ts";
import type { ManifestMemory } from "../manifest-memory.ts";
import { parseName } from "../../common/names.ts";
import { errors } from "../errors.ts";
import type { Arch, ImageRequest } from "../../common/image-request.ts";

export interface EdgeConfig {
  /** What the packages come from, for people (e.g. "nixpkgs, nixos-unstable"). */
  source: string;
  /** How long past its TTL a tag answer may still be served while builders are unreachable. */
  staleSeconds: number;
  /** Retry-After for builder outages when the builder gives none. */
  retryAfterSeconds: number;
  /**
   * How long a pull waits for its build before it is answered 503 with Retry-After; the
   * builder keeps building, and the client's next pull joins the build or gets its result.
   */
  pullWaitSeconds: number;
  /** Distinct builds one client address may have in flight before pulls get 429 (0: no cap). */
  maxBuildsPerClient: number;
  /**
   * Platforms a name without `amd64/` or `arm64/` is built for (NIXPORT_PLATFORMS): with
   * several, a pull by tag gets an index of them all; the first is the default platform.
   */
  platforms: Arch[];
}

export interface RouteContext {
  blobs: BlobReader;
  /** For what a pull asks of builders beyond builds (storing an image index). */
  builder: BuilderClient;
  /** The binary cache's records (narinfo, public key); absent: the cache answers 404. */
  records?: RecordReader;
  resolver: TagResolver;
  recent: RecentBuilds;
  config: EdgeConfig;
  /** Manifest bytes already read from storage, by digest. */
  manifests: ManifestMemory;
  /** Which names' packages exist (tags/list). */
  names: NameCheck;
  /** The puller's address (EdgeDeps.clientAddress). */
  clientAddress?: (c: Context) => string | undefined;
}

/** The parsed name, or NAME_INVALID. Every route checks the name before doing anything else. */
export function requireName(name: string): Omit<ImageRequest, "tag"> {
  const parsed = parseName(name);
  if (!parsed.ok) throw errors.nameInvalid(parsed.reason);
  return parsed.value;
}
