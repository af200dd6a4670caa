#!/usr/bin/env bash
# Installs everything lodi needs on Debian/Ubuntu: libtorch + OpenBLAS + Gloo (system packages, only when
# missing), the npm dependencies, the native engine addon, and the TypeScript build.
# With LIBTORCH=/path/to/libtorch (e.g. a CUDA build) the system libtorch is not needed.
set -euo pipefail
cd "$(dirname "$0")"

need=()
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then need+=(libtorch-dev); fi
# Gloo's headers: the engine's collectives for data-parallel training (c10d, `lodi train lodi --world-size`)
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/gloo/algorithm.h ]; then need+=(libgloo-dev); fi
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas.*openmp\|openblas-openmp'; then
  dpkg -s libopenblas0-openmp >/dev/null 2>&1 || need+=(libopenblas0-openmp)
fi
if [ "${LODI_BENCH_DEPS:-0}" = "1" ]; then
  # Only the benchmarks need these (they compare against numpy and PyTorch in the same run).
  dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
  dpkg -s python3-numpy >/dev/null 2>&1 || need+=(python3-numpy)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${need[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "setup: npm ci (builds the libtorch addon)"
npm ci --no-audit --no-fund
echo "setup: compiling TypeScript"
npm run build --silent
echo "setup: done. Try: npx lodi --help"
