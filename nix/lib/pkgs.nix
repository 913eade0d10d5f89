# Imports the package set a build reads from. Every input is data (strings), never code:
#   pkgsPath — a directory holding default.nix (a local path or a git checkout);
#              "" means <nixpkgs> from NIX_PATH (a channel, `-I nixpkgs=channel:NAME`).
#   system   — e.g. "x86_64-linux"; passed on only when the set takes a `system` argument.
{ pkgsPath, system }:
let
  src = if pkgsPath == "" then <nixpkgs> else /. + pkgsPath;
  f = import src;
  args = if builtins.isFunction f then builtins.functionArgs f else { };
in
if builtins.isFunction f then f (if args ? system then { inherit system; } else { }) else f
