/**
 * The Nix systems this builder's Nix can build: its `system`, its `extra-platforms` (such as
 * aarch64-linux through qemu-user) and its remote builders' systems. The edge sends each
 * platform of an image index to a builder that has its system.
 */
import { readFile } from "node:fs/promises";
import { run } from "./run.ts";

interface ConfigValue {
  value: unknown;
}

/** Systems from `nix show-config --json`, sorted, without repeats. */
export async function nixSystems(env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await run("nix", ["--extra-experimental-features", "nix-command", "show-config", "--json"], { env, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`nix show-config failed (exit ${r.code})`);
  const config = JSON.parse(r.stdout) as Record<string, ConfigValue | undefined>;
  const systems = new Set<string>();
  const own = config.system?.value;
  if (typeof own === "string") systems.add(own);
  const extra = config["extra-platforms"]?.value;
  for (const s of Array.isArray(extra) ? extra : []) if (typeof s === "string") systems.add(s);
  for (const s of await remoteSystems(String(config.builders?.value ?? ""))) systems.add(s);
  return [...systems].sort();
}

/**
 * The systems of Nix's `builders` setting: machines separated by `;` or newlines, each
 * `URI SYSTEMS …` with SYSTEMS comma-separated; `@FILE` reads the machines from FILE.
 */
export async function remoteSystems(builders: string): Promise<string[]> {
  const out: string[] = [];
  for (const machine of builders.split(/[;\n]/).map((m) => m.trim())) {
    if (!machine || machine.startsWith("#")) continue;
    if (machine.startsWith("@")) {
      const file = await readFile(machine.slice(1), "utf8").catch(() => "");
      out.push(...(await remoteSystems(file)));
      continue;
    }
    const systems = machine.split(/\s+/)[1];
    if (systems && systems !== "-") out.push(...systems.split(","));
  }
  return out;
}
