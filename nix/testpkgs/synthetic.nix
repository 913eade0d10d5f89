# A synthetic package set for benchmarks: `count` packages pkg0000, pkg0001, … whose
# dependency graph looks like a distribution's: a few very popular roots (pkg0000 is the
# libc-like one; every package's script also references busybox) and a long tail. Each
# package references 1–4 earlier ones, drawn pseudo-randomly from `seed` in Nix itself
# (sha256 of "seed/i/k"), so the same arguments always give the same graph and store paths.
# Sizes spread from 1 KiB to 1 MiB (log-uniform).
#
#   nix-build nix/testpkgs/synthetic.nix --arg count 2000 --arg seed 7 -A pkg1999
{ count ? 600, seed ? 1, pkgs ? import ./. { } }:
let
  inherit (builtins) genList hashString substring stringLength foldl' elem;

  # A 28-bit pseudo-random number for (i, k).
  digits = builtins.listToAttrs (genList (d: { name = substring d 1 "0123456789abcdef"; value = d; }) 16);
  rand = i: k:
    let h = hashString "sha256" "${toString seed}/${toString i}/${toString k}";
    in foldl' (acc: j: acc * 16 + digits.${substring j 1 h}) 0 (genList (j: j) 7);
  mod = a: b: a - (a / b) * b;
  unit = 268435456; # 2^28, the range of rand

  width = let w = stringLength (toString (count - 1)); in if w < 4 then 4 else w;
  pad = s: if stringLength s >= width then s else pad "0${s}";
  nameOf = i: "pkg${pad (toString i)}";

  # Dependency k of package i: mostly skewed towards the first packages (u^3 makes a few
  # very popular roots), otherwise uniform over all earlier ones (the long tail).
  pick = i: k:
    let
      r = rand i k;
      u = x: rand i (100 + k * 3 + x);
    in
    if mod r 5 < 3 then i * (u 0) / unit * (u 1) / unit * (u 2) / unit
    else i * (u 0) / unit;

  depsOf = i:
    if i == 0 then [ ]
    else
      let
        n = 1 + mod (rand i 0) 4;
        picked = genList (k: pick i (k + 1)) n ++ (if mod (rand i 9) 2 == 0 then [ 0 ] else [ ]);
      in
      foldl' (acc: j: if elem j acc then acc else acc ++ [ j ]) [ ] picked;

  package = i:
    let
      name = nameOf i;
      kb = builtins.elemAt [ 1 2 4 8 16 32 64 128 256 512 1024 ] (mod (rand i 50) 11);
    in
    pkgs.lib.mkPkg {
      pname = name;
      version = "1.${toString (mod (rand i 51) 20)}.${toString (mod (rand i 52) 10)}";
      description = "Synthetic package ${toString i} of ${toString count} (seed ${toString seed})";
      deps = map (j: set.${nameOf j}) (depsOf i);
      script = ''
        mklib ${name} 1.0 ${toString kb}
        mkbin ${name}
        mkdoc
      '';
    };

  set = builtins.listToAttrs (genList (i: { name = nameOf i; value = package i; }) count);
in
set
