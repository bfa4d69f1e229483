#!/usr/bin/env bash
# Installs the onnxruntime shared library that fob uses for test-split scoring into
# .local/onnxruntime/lib/libonnxruntime.so.1 (relative to the repository root).
#
# The library comes from the npm package onnxruntime-node (a C API v24-compatible build), fetched
# with `npm pack` from whatever registry npm is configured for; only the one .so file is kept.
# Idempotent: a present library with the recorded checksum is left alone.
#
# Usage: scripts/install-onnxruntime.sh        (from anywhere; needs node/npm on a fresh machine)
set -euo pipefail

VERSION=1.30.0
# sha256 of package/bin/napi-v6/linux/<arch>/libonnxruntime.so.1 inside onnxruntime-node@1.30.0.
SHA256_X64=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
SHA256_ARM64=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76

die() { echo "install-onnxruntime: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "only Linux is supported (got $(uname -s)); set ONNXRUNTIME_LIB to a library you installed yourself"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64; want=$SHA256_X64 ;;
  aarch64 | arm64) arch=arm64; want=$SHA256_ARM64 ;;
  *) die "unsupported CPU $(uname -m); set ONNXRUNTIME_LIB to a library you installed yourself" ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.local/onnxruntime/lib"
lib="$dest/libonnxruntime.so.1"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$lib" ] && [ "$(sha_of "$lib")" = "$want" ]; then
  echo "onnxruntime $VERSION already installed: $lib"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js/npm (e.g. apt-get install npm) and rerun"
command -v tar >/dev/null 2>&1 || die "tar not found"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "downloading onnxruntime-node@$VERSION with npm pack ..."
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null) ||
  die "npm pack onnxruntime-node@$VERSION failed (is the npm registry reachable?)"
tgz="$(ls "$tmp"/onnxruntime-node-*.tgz 2>/dev/null | head -n1)"
[ -n "$tgz" ] || die "npm pack produced no tarball in $tmp"

member="package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
tar -xzf "$tgz" -C "$tmp" "$member" || die "$member not found in $(basename "$tgz")"

got="$(sha_of "$tmp/$member")"
[ "$got" = "$want" ] || die "checksum mismatch for $member: got $got, want $want"

mkdir -p "$dest"
# Same-folder temp file + rename: a concurrent reader never sees a half-written library.
cp "$tmp/$member" "$dest/.libonnxruntime.so.1.tmp.$$"
chmod 0755 "$dest/.libonnxruntime.so.1.tmp.$$"
mv -f "$dest/.libonnxruntime.so.1.tmp.$$" "$lib"
echo "installed onnxruntime $VERSION ($arch) to $lib"
