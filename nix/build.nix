# The derivations to realise for an image. `attrPathsJson` is a JSON list of attribute paths
# already checked by resolve.nix, e.g. [["hello"],["python3Packages","requests"]].
# Each package contributes the outputs it asks to be installed (meta.outputsToInstall),
# else its default output.
{ pkgsPath ? "", system ? builtins.currentSystem, attrPathsJson }:
let
  pkgs = import ./lib/pkgs.nix { inherit pkgsPath system; };
  attrPaths = builtins.fromJSON attrPathsJson;
  get = path: builtins.foldl' (set: comp: set.${comp}) pkgs path;
  outputsOf = drv:
    let wanted = drv.meta.outputsToInstall or [ (drv.outputName or "out") ];
    in map (o: drv.${o}) (builtins.filter (o: drv ? ${o}) wanted);
in
builtins.concatMap (p: outputsOf (get p)) attrPaths
