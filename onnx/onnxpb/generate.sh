#!/usr/bin/env bash
# Regenerates fob_onnx.pb.go from the official ONNX schema (Debian's libonnx-dev installs it at
# /usr/include/onnx/onnx.proto; override with ONNX_PROTO=/path/to/onnx.proto).
#
# The proto package is renamed to fob.onnx and the file to fob_onnx.proto so that these types do
# not clash in the protobuf registry with onnx-gomlx's internal copy, which is linked into the
# same binary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="${ONNX_PROTO:-/usr/include/onnx/onnx.proto}"

[ -f "$src" ] || { echo "generate.sh: $src not found; apt-get install libonnx-dev or set ONNX_PROTO" >&2; exit 1; }
command -v protoc >/dev/null 2>&1 || { echo "generate.sh: protoc not found; apt-get install protobuf-compiler" >&2; exit 1; }
grep -q '^import ' "$src" && { echo "generate.sh: $src imports other protos; point ONNX_PROTO at a self-contained onnx.proto" >&2; exit 1; }

# protoc-gen-go pinned to the protobuf runtime version in go.mod.
export PATH="$root/.local/bin:$PATH"
if ! command -v protoc-gen-go >/dev/null 2>&1; then
  (cd "$root" && GOBIN="$root/.local/bin" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sed -e 's/^package onnx;$/package fob.onnx;\noption go_package = "github.com\/fob-go\/fob\/onnx\/onnxpb";/' \
    -e '/^option optimize_for = LITE_RUNTIME;$/d' "$src" >"$tmp/fob_onnx.proto"
grep -q '^package fob.onnx;$' "$tmp/fob_onnx.proto" || { echo "generate.sh: no 'package onnx;' line in $src" >&2; exit 1; }

protoc -I "$tmp" --go_out="$tmp" --go_opt=paths=source_relative "$tmp/fob_onnx.proto"
mv -f "$tmp/fob_onnx.pb.go" "$here/fob_onnx.pb.go"
echo "wrote $here/fob_onnx.pb.go from $src"
