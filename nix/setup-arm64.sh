# Sourced by nix/setup-host.sh --arm64 (uses its check, todo and ARM64_BIN): what an x86_64
# host needs to build and run aarch64-linux under qemu-user (FIELD-NOTES "arm64 images").
binfmt=/proc/sys/fs/binfmt_misc

if ! dpkg-query -W -f='${Status}\n' qemu-user-static binfmt-support 2>/dev/null | grep -c 'ok installed' | grep -qx 2; then
  todo+=("install qemu-user-static binfmt-support")
  if ! $check; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
  fi
fi

# Containers and CI machines may start with binfmt_misc unmounted.
if [ ! -e "$binfmt/register" ]; then
  todo+=("mount binfmt_misc")
  $check || mount -t binfmt_misc binfmt_misc "$binfmt"
fi
if ! grep -qx enabled "$binfmt/qemu-aarch64" 2>/dev/null; then
  todo+=("enable the qemu-aarch64 binfmt entry")
  $check || update-binfmts --enable qemu-aarch64
fi

# Debian's arm64 busybox-static, unpacked without installing it (it would replace the host's).
if [ ! -x "$ARM64_BIN/busybox" ]; then
  todo+=("fetch busybox-static:arm64 into $ARM64_BIN")
  if ! $check; then
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq
    tmp=$(mktemp -d) && chmod 755 "$tmp" # apt downloads as _apt
    (cd "$tmp" && apt-get download -qq busybox-static:arm64 && dpkg-deb -x busybox-static_*_arm64.deb root)
    mkdir -p "$ARM64_BIN"
    install -m 755 "$tmp/root/bin/busybox" "$ARM64_BIN/busybox"
    rm -rf "$tmp"
  fi
fi
