import { BuildError } from "../../common/build-error.ts";
import type { PackageSource, ResolvedSource } from "../sources.ts";
import { checkTag, COMMIT_RE } from "./tag.ts";

const CHANNEL_RE = /^(nixos-(unstable|\d{2}\.\d{2})(-small)?|nixpkgs-unstable|nixpkgs-\d{2}\.\d{2}-darwin)$/;
const DEFAULT_BASE = "https://nixos.org/channels";

export interface ChannelOptions {
  /** Where channels are published (NIXPORT_CHANNELS_URL; default https://nixos.org/channels). */
  baseUrl?: string;
  /** Deadline for resolving a channel (default 30 s). */
  timeoutMs?: number;
}

/**
 * A nixpkgs channel: `latest` is the configured channel, another tag names a channel. Each
 * resolve asks the channel which release it points to now (the channel URL redirects to an
 * immutable release folder holding `git-revision` and `nixexprs.tar.xz`); the build then
 * reads that release, and its nixpkgs commit is the image's revision.
 */
export class ChannelSource implements PackageSource {
  readonly kind = "channel";
  readonly description: string;
  private readonly base: string;
  constructor(private readonly channel: string, private readonly o: ChannelOptions = {}) {
    if (!CHANNEL_RE.test(channel)) throw new Error(`not a nixpkgs channel name: ${JSON.stringify(channel)}`);
    this.description = `channel ${channel}`;
    this.base = (o.baseUrl || DEFAULT_BASE).replace(/\/+$/, "");
  }

  async resolve(tag: string, signal?: AbortSignal): Promise<ResolvedSource> {
    checkTag(tag);
    const channel = tag === "latest" ? this.channel : tag;
    if (!CHANNEL_RE.test(channel)) {
      throw new BuildError("invalid_argument", `tag ${JSON.stringify(tag)} is neither "latest" nor a channel name`);
    }
    const { release, commit } = await this.release(channel, signal);
    return { pkgsPath: "", nixPath: [`nixpkgs=${release}/nixexprs.tar.xz`], allowedUris: [`${release}/`], revision: commit, immutable: false, cacheKey: null };
  }

  /** The release folder a channel points to now, and the nixpkgs commit it was made from. */
  private async release(channel: string, signal?: AbortSignal): Promise<{ release: string; commit: string }> {
    const unavailable = (why: string) => new BuildError("unavailable", `channel ${channel} cannot be resolved: ${why}`, { retryAfterSeconds: 30 });
    const timeout = AbortSignal.timeout(this.o.timeoutMs ?? 30_000);
    const res = await fetch(`${this.base}/${channel}/git-revision`, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch(() => null);
    if (signal?.aborted) throw new BuildError("cancelled", "cancelled while resolving the channel");
    if (!res) throw unavailable("no answer");
    if (res.status === 404) throw new BuildError("not_found", `no channel ${channel}`);
    if (!res.ok) throw unavailable(`HTTP ${res.status}`);
    const commit = (await res.text()).trim();
    if (!COMMIT_RE.test(commit)) throw unavailable("its git-revision is not a commit");
    return { release: res.url.replace(/\/git-revision$/, ""), commit };
  }
}
