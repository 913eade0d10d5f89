# The bootstrap of the test package set and its one derivation helper, mkPkg.
#
# No nixpkgs and no fetchers: Debian's static busybox (/bin/busybox) comes in from the host
# through builtins.path. Inside the sandbox /bin/sh is absent, so every builder is a store
# path; and busybox picks its applet from argv[0], which Nix sets to the base name of the
# builder, so that file must be named "busybox" (multi-call entry) or "sh".
{ system ? builtins.currentSystem
  # The host folder holding a static busybox for `system`. aarch64-linux on an x86_64 host
  # (qemu-user): Debian's busybox-static:arm64, where `nix/setup-host.sh --arm64` puts it.
  # Otherwise the host's own: on merged-/usr hosts /bin is a symlink, which builtins.path
  # would store as a symlink. pathExists rather than readDir /: under restrict-eval
  # (nixport's builder) only the host's program folders may be read, and pathExists answers
  # false for what may not.
, hostBin ? (
    if system == "aarch64-linux" && builtins.currentSystem != system then /usr/local/lib/nixport/aarch64-linux
    else if builtins.pathExists /usr/bin/busybox then /usr/bin else /bin)
, busybox # the runtime busybox package (lazy): the shebang interpreter of every script
}:
let
  # The host's bin folder filtered down to busybox alone: a store directory holding a file
  # named "busybox". Hashing it costs a few milliseconds of evaluation.
  hostBusybox = builtins.path {
    name = "host-busybox";
    path = hostBin;
    filter = path: _type: baseNameOf path == "busybox";
  };

  # Stage 1: a copy of busybox with all its applets linked beside it. Its bin/sh is the
  # builder of everything else, and its bin/ the PATH of every build.
  boot = derivation {
    name = "bootstrap-busybox";
    inherit system;
    builder = "${hostBusybox}/busybox";
    args = [
      "sh"
      "-ec"
      ''
        bb=${hostBusybox}/busybox
        $bb mkdir -p $out/bin
        $bb cp $bb $out/bin/busybox
        for a in $($bb --list); do
          if [ "$a" != busybox ]; then $bb ln -s busybox "$out/bin/$a"; fi
        done
      ''
    ];
  };

  # 4 MiB that package content is cut from: a real static binary (about 2 MB), then generated
  # text, so generated files compress like real ones (gzip about 2.5x) and are deterministic.
  base = derivation {
    name = "testpkgs-base-data";
    inherit system;
    builder = "${boot}/bin/sh";
    PATH = "${boot}/bin";
    args = [
      "-ec"
      ''
        awk -v seed=1 -v total=4194304 -f ${./base-text.awk} >text
        cat ${boot}/bin/busybox text | head -c 4194304 >$out
      ''
    ];
  };

  # Like nixpkgs: the package and each of its outputs carry meta and the passthru attributes.
  withExtras = extras: drv:
    let
      outs = builtins.listToAttrs (map (o: { name = o; value = one o; }) drv.outputs);
      one = o: drv.${o} // outs // extras;
    in
    one (builtins.head drv.outputs);

  # mkPkg: one package. `script` runs under busybox sh with the helpers of setup.sh (fill,
  # mklib, mkbin, mkdoc, mktree); `deps` are runtime dependencies, recorded in the output so
  # the references are real. Other attributes become the derivation's environment.
  mkPkg =
    { pname
    , version
    , description
    , script
    , deps ? [ ]
    , outputs ? [ "out" ]
    , shell ? "${busybox}/bin/sh"
    , meta ? { }
    , passthru ? { }
    , ...
    }@attrs:
    let
      own = [ "description" "script" "deps" "meta" "passthru" ];
      drv = derivation (removeAttrs attrs own // {
        name = "${pname}-${version}";
        inherit system pname version outputs shell base;
        builder = "${boot}/bin/sh";
        args = [ ./setup.sh ];
        PATH = "${boot}/bin";
        buildScript = script;
        deps = toString deps;
        runpath = builtins.concatStringsSep ":" (map (d: "${d}/lib") deps);
      });
    in
    # propagatedBuildInputs: the runtime dependencies, where nixpkgs keeps them (popularity.nix).
    withExtras (passthru // { propagatedBuildInputs = deps; meta = meta // { inherit description; }; }) drv;
in
{
  inherit boot base mkPkg;
}
