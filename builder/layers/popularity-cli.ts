/**
 * Computes a popularity file (store-path name → how many closures hold it).
 *
 *   tsx builder/layers/popularity-cli.ts --out FILE closure.json...
 *       each file is the output of `nix path-info --json -r` for one package's closure;
 *   tsx builder/layers/popularity-cli.ts --out FILE --package-set nix/testpkgs [--attr A]...
 *       builds the set's packages (all top-level derivations, or the --attr ones) and counts
 *       each package's closure, from one `nix path-info --json -r` over all of them.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parsePathInfo } from "../nix/pathinfo.ts";
import { run } from "../nix/run.ts";
import { closuresOfRoots, formatPopularity, popularityFromClosures } from "./popularity.ts";

const USAGE = "usage: popularity-cli --out FILE (closure.json... | --package-set PATH [--attr NAME]...)";

async function fromClosureFiles(files: string[]): Promise<Map<string, number>> {
  const closures: string[][] = [];
  for (const file of files) closures.push(parsePathInfo(JSON.parse(await readFile(file, "utf8"))).map((p) => p.path));
  return popularityFromClosures(closures);
}

async function nixJson(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 30 * 60_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} … failed (exit ${r.code}):\n${r.stderrTail.slice(-2000)}`);
  return r.stdout;
}

async function fromPackageSet(setPath: string, attrs: string[]): Promise<Map<string, number>> {
  // Names travel as data (--argstr), never spliced into Nix code.
  const names =
    attrs.length > 0
      ? attrs
      : (JSON.parse(
          await nixJson("nix-instantiate", [
            "--eval", "--json", "--strict", "--argstr", "set", setPath, "--expr",
            '{ set }: let s = import (if builtins.substring 0 1 set == "/" then /. + set else ./. + "/${set}") { }; in builtins.filter (n: (builtins.tryEval ((s.${n}.type or null) == "derivation")).value) (builtins.attrNames s)',
          ]),
        ) as string[]);
  const roots: string[] = [];
  for (const name of names) {
    const out = await nixJson("nix-build", ["--no-out-link", setPath, "-A", name]).catch((e: Error) => {
      console.error(`skipping ${name}: ${e.message.split("\n")[0]}`);
      return "";
    });
    roots.push(...out.split("\n").filter((l) => l.startsWith("/")));
  }
  if (roots.length === 0) throw new Error("no package of the set could be built");
  const paths = parsePathInfo(JSON.parse(await nixJson("nix", ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", "--", ...roots])));
  return popularityFromClosures(closuresOfRoots({ roots, paths }));
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: "string" }, "package-set": { type: "string" }, attr: { type: "string", multiple: true } },
  });
  const setPath = values["package-set"];
  if (!values.out || (setPath ? positionals.length > 0 : positionals.length === 0)) throw new Error(USAGE);
  const popularity = setPath ? await fromPackageSet(setPath, values.attr ?? []) : await fromClosureFiles(positionals);
  await writeFile(values.out, formatPopularity(popularity));
  console.error(`wrote ${popularity.size} names to ${values.out}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
