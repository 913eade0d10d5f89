#!/usr/bin/env bash
# Configures a Debian host's single-user Nix (nix-bin) for nixport: no binary cache
# (an unreachable one costs seconds per build), nix-command, and no build-users group
# when Debian was installed without the nixbld group. Idempotent; run as root.
set -euo pipefail
conf=/etc/nix/nix.conf
mkdir -p /etc/nix
want=(
  "substituters ="
  "experimental-features = nix-command"
  "sandbox = true"
)
if ! getent group nixbld >/dev/null; then want+=("build-users-group ="); fi
touch "$conf"
for line in "${want[@]}"; do
  key=${line%% =*}
  if grep -qE "^[[:space:]]*${key}[[:space:]]*=" "$conf"; then
    sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*|${line}|" "$conf"
  else
    echo "$line" >>"$conf"
  fi
done
mkdir -p /nix/var/nix/gcroots/nixport
