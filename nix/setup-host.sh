#!/usr/bin/env bash
# Sets up a Debian or Ubuntu host's single-user Nix for nixport: installs Debian's nix-bin
# (and busybox-static, which nix/testpkgs builds with) when Nix is missing, then configures
# it: no binary cache (an unreachable one costs seconds per build), nix-command, and no
# build-users group when Debian was installed without the nixbld group.
# Idempotent: writes only what differs. Run as root.
#   --check   change nothing; print what is missing and exit 1 if anything is.
#   --arm64   also build and run aarch64-linux here through qemu-user emulation: the qemu
#             binfmt entry (flag F, so it works inside Nix's sandbox and in containers),
#             Nix's extra-platforms, and Debian's arm64 static busybox in $ARM64_BIN, the
#             folder nix/testpkgs bootstraps aarch64-linux from.
set -euo pipefail
check=false arm64=false
for arg in "$@"; do
  case $arg in
    --check) check=true ;;
    --arm64) arm64=true ;;
    *) echo "usage: nix/setup-host.sh [--check] [--arm64]" >&2; exit 2 ;;
  esac
done
ARM64_BIN=/usr/local/lib/nixport/aarch64-linux # also in nix/testpkgs/stdenv.nix
conf=${NIX_CONF_DIR:-/etc/nix}/nix.conf # Nix reads the same variable
todo=()

if ! command -v nix-build >/dev/null || [ ! -x /bin/busybox ]; then
  todo+=("install nix-bin busybox-static")
  if ! $check; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nix-bin busybox-static >/dev/null
  fi
fi

if $arm64; then
  . "$(dirname "$0")/setup-arm64.sh"
fi

want=(
  "substituters ="
  "experimental-features = nix-command"
  "sandbox = true"
)
if ! getent group nixbld >/dev/null; then want+=("build-users-group ="); fi
if $arm64; then want+=("extra-platforms = aarch64-linux"); fi
for line in "${want[@]}"; do
  grep -qxF "$line" "$conf" 2>/dev/null && continue
  todo+=("set '$line' in nix.conf")
  $check && continue
  mkdir -p "$(dirname "$conf")"
  touch "$conf"
  key=${line%% =*}
  if grep -qE "^[[:space:]]*${key}[[:space:]]*=" "$conf"; then
    sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*|${line}|" "$conf"
  else
    echo "$line" >>"$conf"
  fi
done

roots=/nix/var/nix/gcroots/nixport
if [ ! -d "$roots" ]; then
  todo+=("mkdir $roots")
  $check || mkdir -p "$roots"
fi

if $check && [ ${#todo[@]} -gt 0 ]; then
  msg=$(printf '%s; ' "${todo[@]}")
  echo "nix/setup-host.sh would: ${msg%; }"
  exit 1
fi
