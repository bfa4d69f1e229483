#!/usr/bin/env bash
# Installs what building and testing fob needs beyond Go and the onnxruntime library: nothing
# at run time; the Go modules come through the module proxy on the first build. Idempotent.
set -euo pipefail
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || {
	echo "fob needs Go 1.26 (https://go.dev/dl); install it and re-run" >&2
	exit 1
}
export PATH=/usr/local/go/bin:$PATH
go mod download
