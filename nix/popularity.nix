# Popularity from the package set itself: for each store-path name, how many of the set's
# top-level packages hold it in their closure. The closure is followed at evaluation time
# through `propagatedBuildInputs` and `buildInputs` (what nixpkgs links and keeps at run
# time), so nothing is built; an attribute that fails to evaluate is skipped. Every input
# is data: the package set comes through lib/pkgs.nix like every other expression here.
{ pkgsPath ? "", system ? builtins.currentSystem }:
let
  pkgs = import ./lib/pkgs.nix { inherit pkgsPath system; };

  # A derivation whose output path evaluates (broken or insecure packages throw).
  usable = v:
    let r = builtins.tryEval (builtins.isAttrs v && (v.type or null) == "derivation" && builtins.isString v.outPath);
    in r.success && r.value;

  inputsOf = drv:
    let r = builtins.tryEval ((drv.propagatedBuildInputs or [ ]) ++ (drv.buildInputs or [ ]));
    in if r.success && builtins.isList r.value then builtins.filter usable r.value else [ ];

  closureOf = drv: builtins.genericClosure {
    startSet = [ { key = drv.outPath; inherit drv; } ];
    operator = item: map (d: { key = d.outPath; drv = d; }) (inputsOf item.drv);
  };

  # Store-path names of a derivation's outputs: `name` for out, `name-OUTPUT` for the others.
  outputNames = drv: map (o: if o == "out" then drv.name else "${drv.name}-${o}") (drv.outputs or [ "out" ]);

  packages = builtins.filter (n: usable pkgs.${n}) (builtins.attrNames pkgs);

  # Each package's closure counts a name once.
  namesOf = n: builtins.attrNames (builtins.listToAttrs
    (map (name: { inherit name; value = null; }) (builtins.concatMap (item: outputNames item.drv) (closureOf pkgs.${n}))));
in
builtins.mapAttrs (_: occurrences: builtins.length occurrences)
  (builtins.groupBy (name: name) (builtins.concatMap namesOf packages))
