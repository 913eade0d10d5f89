/**
 * Picks the builder for an image by rendezvous (highest-random-weight) hashing on its key:
 * every edge picks the same builder for the same image without coordination, so that
 * builder's caches and in-flight dedup serve it; adding or removing one builder moves only
 * the images that builder wins or won.
 */
import { type ImageRequest, requestKey } from "../../common/image-request.ts";
import type { BuilderClient } from "./client.ts";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a over UTF-8, then the splitmix64 finalizer so similar inputs spread over all bits. */
export function hash64(s: string): bigint {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK64;
  }
  h = ((h ^ (h >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  h = ((h ^ (h >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return h ^ (h >> 31n);
}

/** The member with the highest score for key; ties (practically impossible) go to the smaller name. */
export function chooseByRendezvous(members: readonly string[], key: string): string {
  let best: string | undefined;
  let bestScore = -1n;
  for (const m of members) {
    const score = hash64(`${m}\u0000${key}`);
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = score;
    }
  }
  if (best === undefined) throw new Error("no builders to choose from");
  return best;
}

/** One BuilderClient over several builders, each image routed to its rendezvous choice. */
export function routedBuilder(builders: ReadonlyMap<string, BuilderClient>): BuilderClient {
  const urls = [...builders.keys()];
  return {
    async build(req: ImageRequest, opts) {
      const client = builders.get(chooseByRendezvous(urls, requestKey(req)));
      if (!client) throw new Error("unreachable: chosen builder missing");
      return client.build(req, opts);
    },
    async checkPackages(packages, tag, opts) {
      // Every builder serves the same package source: ask the one that builds these.
      const client = builders.get(chooseByRendezvous(urls, requestKey({ arch: "amd64", packages, tag })));
      if (!client?.checkPackages) return { unknown: [] };
      return client.checkPackages(packages, tag, opts);
    },
  };
}
