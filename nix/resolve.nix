# Checks package names against a package set in one evaluation, before anything is built.
# `namesJson` is a JSON list of names as the client wrote them ("hello", "python3packages.requests");
# each dot-separated component is matched exactly, else by its lowercase spelling (OCI names are
# lowercase, Nix attributes are not). The answer is one record per name:
#   { name; status = "ok" | "unknown" | "ambiguous" | "notDerivation" | "evalError"; attrPath; candidates; }
{ pkgsPath ? "", system ? builtins.currentSystem, namesJson }:
let
  pkgs = import ./lib/pkgs.nix { inherit pkgsPath system; };
  names = builtins.fromJSON namesJson;

  upper = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
  lower = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
  toLower = builtins.replaceStrings upper lower;
  components = name: builtins.filter builtins.isString (builtins.split "\\." name);

  # Attribute names of `set` whose lowercase spelling is `comp` (exact match first).
  candidatesIn = set: comp:
    if set ? ${comp} then [ comp ]
    else builtins.filter (n: toLower n == toLower comp) (builtins.attrNames set);

  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";

  # Walks the components; `value` is the attribute set reached so far.
  walk = value: done: rest:
    if rest == [ ] then
      (if isDrv value then { status = "ok"; attrPath = done; candidates = [ ]; }
       else { status = "notDerivation"; attrPath = done; candidates = [ ]; })
    else if !(builtins.isAttrs value) || isDrv value then
      { status = "unknown"; attrPath = done; candidates = [ ]; }
    else
      let
        comp = builtins.head rest;
        cands = candidatesIn value comp;
        picked = builtins.head cands;
        next = builtins.tryEval value.${picked};
      in
      if cands == [ ] then { status = "unknown"; attrPath = done; candidates = [ ]; }
      else if builtins.length cands > 1 then
        { status = "ambiguous"; attrPath = done; candidates = map (c: builtins.concatStringsSep "." (done ++ [ c ])) cands; }
      else if !next.success then { status = "evalError"; attrPath = done ++ [ picked ]; candidates = [ ]; }
      else walk next.value (done ++ [ picked ]) (builtins.tail rest);

  check = name: { inherit name; } // walk pkgs [ ] (components name);
in
map check names
