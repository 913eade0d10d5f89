# Sourced by every testpkgs builder (busybox sh, inside the Nix sandbox). Helpers write
# deterministic content shaped like a real package: shared objects, scripts, docs, trees.
# Environment from mkPkg: out (and other outputs), pname, version, base (4 MiB of binary +
# text to cut content from), shell (the shebang interpreter), runpath, deps, buildScript.
set -e

# seedof KEY: a 28-bit number from KEY's md5, so every file gets stable content of its own.
seedof() { printf '%d' "0x$(printf '%s' "$1" | md5sum | cut -c1-7)"; }

# rotset N: a tr(1) target that adds N (1..255) to every byte. One base chunk thus gives 255
# copies that share nothing byte for byte, yet compress exactly as well as the base does.
rotset() { printf '\\%03o-\\377\\000-\\%03o' "$1" "$(($1 - 1))"; }

# fill FILE KB KEY: append KB KiB cut from $base in chunks of up to 1 MiB, each at an offset
# and byte rotation drawn from KEY (gzip ratio about 2.5, like a mix of binaries and text).
fill() {
  local file=$1 left=$2 r n skip rot
  r=$(seedof "$3")
  : >>"$file"
  while [ "$left" -gt 0 ]; do
    n=$left
    if [ "$n" -gt 1024 ]; then n=1024; fi
    r=$(( (r * 1103515245 + 12345) % 2147483648 ))
    skip=$(( r % (4096 - n + 1) ))
    rot=$(( (r / 4096) % 255 + 1 ))
    dd if="$base" bs=1024 skip="$skip" count="$n" 2>/dev/null |
      tr '\000-\377' "$(rotset "$rot")" >>"$file"
    left=$((left - n))
  done
}

# mklib NAME SOVERSION KB [OUTPUT]: lib/libNAME.so.SOVERSION, a fake shared object whose
# header carries the dependencies' RUNPATH (that makes the references real), with the usual
# libNAME.so.MAJOR and libNAME.so symlinks.
mklib() {
  local dir="${4:-$out}/lib" so="lib$1.so"
  local major="${2%%.*}"
  mkdir -p "$dir"
  printf '\177ELF fake shared object %s\nRUNPATH=%s\n' "$so.$2" "$runpath" >"$dir/$so.$2"
  fill "$dir/$so.$2" "$3" "$pname/$so"
  chmod 555 "$dir/$so.$2"
  if [ "$major" != "$2" ]; then ln -s "$so.$2" "$dir/$so.$major"; fi
  ln -s "$so.$2" "$dir/$so"
}

# mkbin NAME [BODY]: an executable script bin/NAME with a store-path shebang, so it runs on
# the host and in a container holding only its closure. Without BODY it answers --version
# like the real tool and otherwise says it is a stand-in.
mkbin() {
  local f="$out/bin/$1"
  mkdir -p "$out/bin"
  {
    printf '#!%s\n# %s %s (nixport testpkgs stand-in)\n' "$shell" "$pname" "$version"
    if [ -n "$runpath" ]; then printf '# RUNPATH=%s\n' "$runpath"; fi
    if [ $# -ge 2 ]; then
      printf '%s\n' "$2"
    else
      printf 'case "$1" in\n  --version|-V) echo "%s %s" ;;\n' "$1" "$version"
      printf '  *) echo "%s: stand-in of %s %s, nothing to do" ;;\nesac\n' "$1" "$pname" "$version"
    fi
  } >"$f"
  chmod 555 "$f"
}

# mkdoc [NAME]: share/doc/PNAME/README and a man page for NAME (default: pname).
mkdoc() {
  local name="${1:-$pname}"
  mkdir -p "$out/share/doc/$pname" "$out/share/man/man1"
  printf '%s %s\n\nStand-in package of the nixport test package set.\n' "$pname" "$version" \
    >"$out/share/doc/$pname/README"
  printf '.TH %s 1\n.SH NAME\n%s \\- part of %s %s\n' "$name" "$name" "$pname" "$version" \
    >"$out/share/man/man1/$name.1"
}

# mktree DIR COUNT KB EXT: COUNT files of about KB KiB each under DIR, spread over nested
# subfolders (a module tree such as lib/python3.x or lib/perl5).
mktree() {
  local dir=$1 count=$2 kb=$3 ext=$4 i=0 sub
  while [ "$i" -lt "$count" ]; do
    sub="$dir/mod$((i % 7))/sub$((i % 3))"
    mkdir -p "$sub"
    fill "$sub/file$i.$ext" $(( kb / 2 + (i * 13) % (kb + 1) )) "$pname/$dir/$i"
    i=$((i + 1))
  done
}

mkdir -p "$out"
eval "$buildScript"
# Record the runtime dependencies like nixpkgs does, so each declared one is a real reference.
if [ -n "$deps" ]; then
  mkdir -p "$out/nix-support"
  printf '%s\n' $deps >"$out/nix-support/propagated-build-inputs"
fi
