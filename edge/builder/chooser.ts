/**
 * Picks the builder for an image by rendezvous (highest-random-weight) hashing on its key:
 * every edge picks the same builder for the same image without coordination, so that
 * builder's caches and in-flight dedup serve it; adding or removing one builder moves only
 * the images that builder wins or won.
 */
import { BuildError } from "../../common/build-error.ts";
import { type Arch, type ImageRequest, requestKey } from "../../common/image-request.ts";
import { NIX_SYSTEM, platformName } from "../../common/platforms.ts";
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

/** How long a builder's reported systems are trusted before they are asked again. */
const SYSTEMS_TTL_MS = 5 * 60_000;

/**
 * One BuilderClient over several builders, each image routed to its rendezvous choice among
 * the builders whose Nix builds its platform (an arm64 image goes to one with aarch64-linux).
 * A builder that does not say (an older builder, or unreachable) counts as able.
 */
export function routedBuilder(builders: ReadonlyMap<string, BuilderClient>, now: () => number = Date.now): BuilderClient {
  const urls = [...builders.keys()];
  const known = new Map<string, { at: number; systems: Promise<string[] | null> }>();
  const systemsOf = (url: string): Promise<string[] | null> => {
    const hit = known.get(url);
    if (hit && now() - hit.at < SYSTEMS_TTL_MS) return hit.systems;
    const client = builders.get(url);
    const systems = client?.systems ? client.systems().catch(() => (known.delete(url), null)) : Promise.resolve(null);
    known.set(url, { at: now(), systems });
    return systems;
  };
  async function able(arch: Arch): Promise<string[]> {
    const system = NIX_SYSTEM[arch];
    const reported = await Promise.all(urls.map(systemsOf));
    const out = urls.filter((_, i) => reported[i] === null || reported[i]!.includes(system));
    if (!out.length) throw new BuildError("unavailable", `no builder builds ${platformName(arch)} (Nix system ${system})`, { retryAfterSeconds: 300 });
    return out;
  }
  return {
    async build(req: ImageRequest, opts) {
      const client = builders.get(chooseByRendezvous(await able(req.arch), requestKey(req)));
      if (!client) throw new Error("unreachable: chosen builder missing");
      return client.build(req, opts);
    },
    async writeIndex(type, entries) {
      // The builders share one store: any of them can; the same index goes to the same one.
      const client = builders.get(chooseByRendezvous(urls, entries.map((e) => e.digest).join(",")));
      if (!client?.writeIndex) throw new BuildError("unavailable", "the builder stores no indexes");
      return client.writeIndex(type, entries);
    },
    async checkPackages(packages, tag, opts) {
      // Every builder serves the same package source: ask the one that builds these.
      const client = builders.get(chooseByRendezvous(urls, requestKey({ arch: "amd64", packages, tag })));
      if (!client?.checkPackages) return { unknown: [] };
      return client.checkPackages(packages, tag, opts);
    },
  };
}
