#!/usr/bin/env bash
# The PyTorch CPU peer for `rewardkit bench`, offline: a venv (default .venv-torch) that sees the
# system site-packages (numpy, torch's dependencies) and installs torch from a wheel already on the
# machine (the development image ships one). Prints the line to export; exits 1 when no wheel exists.
#
#   bash scripts/torch-peer.sh [venv-dir] [wheel]   then   export REWARDKIT_PYTHON=<venv>/bin/python
set -euo pipefail
venv=${1:-.venv-torch}
# A CPU build (`+cpu`) first: a CUDA wheel needs cuDNN and friends beside it.
wheel=${2:-$(find / -xdev -name 'torch-*+cpu-*.whl' -print -quit 2>/dev/null || true)}
wheel=${wheel:-$(find / -xdev -name 'torch-*.whl' -print -quit 2>/dev/null || true)}
[ -n "$wheel" ] && [ -f "$wheel" ] || { echo "torch-peer: no torch wheel found on this machine" >&2; exit 1; }
python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --quiet --no-index --no-deps "$wheel"
"$venv/bin/python" -c 'import torch; torch.zeros(1)' # fails here, not in the bench, if a dependency is missing
echo "export REWARDKIT_PYTHON=$(cd "$venv" && pwd)/bin/python"
