/**
 * Does a name's package list exist? For tags/list, which must say NAME_UNKNOWN for a name
 * whose packages do not exist. The builder checks without building; answers are remembered
 * for a while (bounded), so repeated listings of one name cost one check.
 */
import type { BuilderClient } from "./builder/client.ts";

const TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 1000;

export class NameCheck {
  private readonly known = new Map<string, { unknown: string[]; until: number }>();

  constructor(private readonly builder: BuilderClient, private readonly now: () => number) {}

  /** The packages the source does not have, or null when the builder cannot tell now. */
  async unknownPackages(packages: string[], tag: string): Promise<string[] | null> {
    if (!this.builder.checkPackages) return null;
    const key = JSON.stringify([tag, packages]);
    const hit = this.known.get(key);
    if (hit && hit.until > this.now()) return hit.unknown;
    let unknown: string[];
    try {
      ({ unknown } = await this.builder.checkPackages(packages, tag));
    } catch {
      return null; // builder down or slow: tags/list still answers for a valid name
    }
    this.known.delete(key);
    if (this.known.size >= MAX_ENTRIES) this.known.delete(this.known.keys().next().value!);
    this.known.set(key, { unknown, until: this.now() + TTL_MS });
    return unknown;
  }
}
