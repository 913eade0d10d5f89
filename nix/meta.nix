# What the package set's meta says of an image's packages, for its SBOM: for each output of
# the requested packages (as build.nix picks them) and of their propagatedBuildInputs (where
# nixpkgs keeps runtime dependencies), its store path, SPDX license ids and homepage.
# `attrPathsJson` is the JSON list build.nix receives. A package whose meta fails to evaluate
# is left out. Answer: [ { path; licenses = [ id or null ]; homepage = string or null; } ].
{ pkgsPath ? "", system ? builtins.currentSystem, attrPathsJson }:
let
  pkgs = import ./lib/pkgs.nix { inherit pkgsPath system; };
  attrPaths = builtins.fromJSON attrPathsJson;
  get = path: builtins.foldl' (set: comp: set.${comp}) pkgs path;
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";

  licenseId = l: if builtins.isAttrs l then (l.spdxId or null) else if builtins.isString l then l else null;
  licensesOf = m:
    let l = m.license or null;
    in if l == null then [ ] else if builtins.isList l then map licenseId l else [ (licenseId l) ];
  homepageOf = m:
    let h = m.homepage or null;
    in if builtins.isString h then h else if builtins.isList h && h != [ ] && builtins.isString (builtins.head h) then builtins.head h else null;

  outputsOf = drv: map (o: drv.${o}) (builtins.filter (o: drv ? ${o}) (drv.outputs or [ "out" ]));
  describe = drv: map (o: { path = o.outPath; licenses = licensesOf (drv.meta or { }); homepage = homepageOf (drv.meta or { }); }) (outputsOf drv);

  # The requested packages and what they propagate, each once (keyed by derivation path).
  closure = builtins.genericClosure {
    startSet = map (p: { key = (get p).drvPath; drv = get p; }) attrPaths;
    operator = item: map (d: { key = d.drvPath; drv = d; }) (builtins.filter isDrv (item.drv.propagatedBuildInputs or [ ]));
  };
  safe = item: let r = builtins.tryEval (builtins.deepSeq (describe item.drv) (describe item.drv)); in if r.success then r.value else [ ];
in
builtins.concatMap safe closure
