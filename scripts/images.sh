#!/usr/bin/env bash
# Fetches Debian's arm64 kernel and busybox-static with apt-get download and
# builds armvirt's initramfs. Prints progress on stderr and the paths of the
# results on stdout as shell assignments (KERNEL=..., INITRD=...).
#   scripts/images.sh [cloud|generic]     (default: cloud)
# Results are cached in ${ARMVIRT_CACHE:-~/.cache/armvirt}; delete it to refetch.
set -euo pipefail
flavour=${1:-cloud}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ARMVIRT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/armvirt}
mkdir -p "$cache"
say() { echo "images: $*" >&2; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

case "$flavour" in
  cloud) meta=linux-image-cloud-arm64 ;;
  generic) meta=linux-image-arm64 ;;
  *) echo "images: unknown kernel flavour '$flavour' (cloud or generic)" >&2; exit 2 ;;
esac

kernel="$cache/vmlinuz-$flavour"
initrd="$cache/initramfs.cpio.gz"

apt_ready() { apt-cache show "$meta:arm64" >/dev/null 2>&1 && apt-cache show busybox-static:arm64 >/dev/null 2>&1; }
if [ ! -s "$kernel" ] || [ ! -s "$cache/busybox" ]; then
  if ! apt_ready; then
    say "enabling the arm64 architecture in apt and updating package lists"
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq >&2
  fi
  for tool in cpio dpkg-deb gzip; do command -v $tool >/dev/null || { say "installing cpio"; $SUDO apt-get install -y -qq cpio >&2; }; done
  work=$(mktemp -d); chmod 755 "$work"; trap 'rm -rf "$work"' EXIT
  cd "$work"
  if [ ! -s "$kernel" ]; then
    # the metapackage names the current kernel; Debian ships the unsigned image as <name>-unsigned
    pkg=$(apt-cache depends "$meta:arm64" | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
    [ -n "$pkg" ] || { echo "images: cannot resolve $meta:arm64" >&2; exit 1; }
    if apt-cache show "$pkg-unsigned:arm64" >/dev/null 2>&1; then pkg="$pkg-unsigned"; fi
    say "downloading $pkg:arm64"
    apt-get download -q "$pkg:arm64" >&2
    dpkg-deb -x linux-image-*.deb kernel
    cp kernel/boot/vmlinuz-* "$kernel.tmp" && mv "$kernel.tmp" "$kernel"
    echo "$pkg" > "$kernel.package"
  fi
  if [ ! -s "$cache/busybox" ]; then
    say "downloading busybox-static:arm64"
    apt-get download -q busybox-static:arm64 >&2
    dpkg-deb -x busybox-static_*.deb bb
    cp bb/bin/busybox "$cache/busybox.tmp" && mv "$cache/busybox.tmp" "$cache/busybox"
  fi
  cd "$root"
fi

if [ ! -s "$initrd" ] || [ "$root/guest/init" -nt "$initrd" ] || [ "$cache/busybox" -nt "$initrd" ]; then
  say "building the initramfs"
  tree=$(mktemp -d)
  mkdir -p "$tree"/{bin,dev,proc,sys,tmp,etc,root}
  cp "$cache/busybox" "$tree/bin/busybox"
  chmod 755 "$tree/bin/busybox"
  ln -s busybox "$tree/bin/sh"
  install -m 755 "$root/guest/init" "$tree/init"
  echo "root:x:0:0:root:/root:/bin/sh" > "$tree/etc/passwd"
  # /dev/console must exist before /init runs, or the kernel opens no console for it
  if [ "$(id -u)" -eq 0 ]; then mknod -m 600 "$tree/dev/console" c 5 1; mknod -m 666 "$tree/dev/null" c 1 3; fi
  (cd "$tree" && find . | sort | cpio -o -H newc --owner 0:0 --quiet) | gzip -9 > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$tree"
fi
echo "KERNEL=$kernel"
echo "INITRD=$initrd"
