#!/usr/bin/env bash
# Installs what building and testing fob needs beyond Go and the onnxruntime library: the Go
# modules (through the module proxy) and the Debian packages the tests compare against
# (sentencepiece's spm_* tools, gettext's msgunfmt, PyTorch for reference models, ONNX's own
# conformance test data). Idempotent; without root it prints the apt-get line instead.
#
#   scripts/install-deps.sh [PACKAGE...]    # PACKAGEs: further Debian packages to install with them
set -euo pipefail
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || {
	echo "fob needs Go 1.26 (https://go.dev/dl); install it and re-run" >&2
	exit 1
}
export PATH=/usr/local/go/bin:$PATH
need=("$@")
command -v spm_train >/dev/null 2>&1 || need+=(sentencepiece)
command -v msgunfmt >/dev/null 2>&1 || need+=(gettext)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch libopenblas0-pthread)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scipy' 2>/dev/null || need+=(python3-scipy) # scripts/bench_tasks_torch.py reads Cora's pickles
[ -d /usr/share/libonnx-testdata ] || need+=(libonnx-testdata)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import rdkit' 2>/dev/null && [ -d /usr/share/RDKit/Data/NCI ] || need+=(python3-rdkit rdkit-data) # tasks/graph: offline molecules (make_ogb_from_rdkit.py)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torchvision' 2>/dev/null || need+=(python3-torchvision) # tasks/data/vision compares its augmentations with torchvision's
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sklearn, onnx' 2>/dev/null || need+=(python3-sklearn python3-onnx) # tasks: top-k vs sklearn; models: ResNet vs torchvision with onnx.checker
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null || need+=(python3-pil) # tasks/data compares the ADE20K processor resizes with PIL
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing Debian packages: ${need[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
	else
		echo "the tests need these Debian packages: sudo apt-get install ${need[*]}" >&2
	fi
fi
go mod download
