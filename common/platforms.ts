/**
 * Platforms an image is built for (NIXPORT_PLATFORMS, `linux/amd64,linux/arm64`): the
 * architectures of the name grammar, the Nix systems that build them and the OCI platform
 * objects an image index lists them by. Pure: the Worker bundles it.
 */
import type { Arch } from "./image-request.ts";

export const ARCHES: readonly Arch[] = ["amd64", "arm64"];

/** The Nix system that builds each architecture (also what a builder reports it can build). */
export const NIX_SYSTEM: Readonly<Record<Arch, string>> = { amd64: "x86_64-linux", arm64: "aarch64-linux" };

/** `linux/arm64`: how the index, the errors and the configuration name a platform. */
export const platformName = (arch: Arch): string => `linux/${arch}`;

/** The OCI image index's platform object (arm64 images are ARMv8, as their config says). */
export function ociPlatform(arch: Arch): { architecture: Arch; os: "linux"; variant?: string } {
  return arch === "arm64" ? { architecture: arch, os: "linux", variant: "v8" } : { architecture: arch, os: "linux" };
}

/**
 * Reads `linux/amd64,linux/arm64` (comma- or space-separated; `arm64` alone and
 * `linux/arm64/v8` too) into architectures in the given order, without repeats; the first
 * is the default platform of clients that take no index. Unset or empty: `fallback`.
 */
export function parsePlatforms(value: string | undefined, fallback: readonly Arch[]): Arch[] {
  const out: Arch[] = [];
  for (const item of (value ?? "").split(/[\s,]+/).filter(Boolean)) {
    const m = /^(?:linux\/)?(?:(amd64)|(arm64)(?:\/v8)?)$/.exec(item.toLowerCase());
    const arch = (m?.[1] ?? m?.[2]) as Arch | undefined;
    if (!arch) {
      throw new Error(`NIXPORT_PLATFORMS: unknown platform '${item}' (known: ${ARCHES.map(platformName).join(", ")})`);
    }
    if (!out.includes(arch)) out.push(arch);
  }
  return out.length ? out : [...fallback];
}
