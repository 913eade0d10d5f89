# Large closures for throughput benchmarks. Content is cut from the base data (half static
# binary, half text) with a different byte rotation per MiB: gzip compresses it about 2.5x,
# and no MiB repeats another, so neither all-zero nor random-like shortcuts apply.
{ mkPkg }:
rec {
  # bigdata { name, sizeMB, seed }: one store path of sizeMB MiB in files of up to 64 MiB
  # under share/NAME/; the same arguments always give the same bytes.
  bigdata = { name, sizeMB, seed ? 1 }:
    mkPkg {
      pname = name;
      version = "1";
      description = "${toString sizeMB} MiB of generated data (seed ${toString seed})";
      shell = "";
      script = ''
        d=$out/share/${name}
        mkdir -p $d
        left=${toString sizeMB}
        i=0
        while [ $left -gt 0 ]; do
          n=$left
          if [ $n -gt 64 ]; then n=64; fi
          fill $d/part-$i.bin $((n * 1024)) "${name}/${toString seed}/$i"
          left=$((left - n))
          i=$((i + 1))
        done
      '';
    };

  # bigClosure { name, sizeMB, parts, seed }: a small top package referencing `parts` bigdata
  # paths that add up to sizeMB MiB: one closure, several big store paths.
  bigClosure = { name ? "big", sizeMB ? 512, parts ? 8, seed ? 1 }:
    let
      each = (sizeMB + parts - 1) / parts;
      part = i: bigdata { name = "${name}-part${toString i}"; sizeMB = each; inherit seed; };
    in
    mkPkg {
      pname = name;
      version = "1";
      description = "A closure of ${toString parts} generated store paths, ${toString sizeMB} MiB in all";
      shell = "";
      deps = builtins.genList part parts;
      script = "mkdoc";
    };
}
