#!/usr/bin/env bash
# GPU device check (BENCHMARKS.md, "GPU device check"): one command for a machine
# with an NVIDIA GPU, python3 with PyTorch (CUDA), g++, and neither Node nor network. Run it from the
# repository root, with .gpu-bundle (bench/gpu-bundle.sh, made beforehand) carried along:
#
#   bash bench/gpu.sh [--budget-s 300] [--limit-s 570] [--device cuda] [--python python3]
#   bash bench/gpu.sh --dry [--compile [--rebuild] | --addon FILE]   the same flow on a CPU machine
#   bash bench/gpu.sh ... -- --lodi-batch 128 --steps 50               options after -- go to gpu-check.js
#
#   1. facts: nvidia-smi, the python3 that has torch, its libtorch directory, C++ ABI and CUDA libraries
#   2. node: unpacks .gpu-bundle/node.xz (xz, or Python's lzma without it) and app.tar into out/gpu-build
#   3. addon: compiles packages/torch/src/addon.cc with one g++ command (the flags of binding.gyp;
#      C++20 instead of C++17 when the libtorch headers require it) against the libtorch inside the
#      torch wheel, into out/gpu-build/app/node_modules/@lodi/torch/build/Release; a build of the same
#      source against the same torch is kept in out/gpu-build and reused by a later run (--rebuild: not)
#   4. check: node out/gpu-build/app/dist/bench/gpu-check.js (bench/gpu-check.ts) under `timeout`, with
#      nvidia-smi's memory.used and utilization.gpu sampled every 0.5 s into gpu-mem.csv; the check
#      runs the PyTorch references (bench/py/*.py) on the same device itself
#   5. results: gpu-check.json and gpu-check.md (the check's, with the GPU memory per step added)
#
# Output in ${OUT:-out/gpu-check}: gpu-check.json, gpu-check.md, gpu.log (everything printed),
# compile.log, shell.json (this script's facts and times), gpu-mem.csv, nvidia-smi.txt, logs/ (per step).
#
# --limit-s: wall time of the whole script (default 570 s, under a 10-minute command limit); the
#   check's --budget-s is reduced to fit what is left after the compile.
# --dry: CPU (--device cpu), small sizes, budget 90 s, no nvidia-smi; uses an already built addon
#   (--addon FILE, else packages/torch/build/Release/lodi_torch.node) unless --compile, in which case
#   the g++ command runs against python3's torch (Debian's python3-torch has include/ and lib/ too).
set -uo pipefail
T0=$(date +%s)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

DRY=0 COMPILE=0 REBUILD=0 BUDGET='' LIMIT=570 DEVICE='' ADDON='' PY=${LODI_PYTHON:-}
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry) DRY=1 ;;
    --compile) COMPILE=1 ;;
    --rebuild) REBUILD=1 ;;
    --addon) ADDON=$2; shift ;;
    --budget-s) BUDGET=$2; shift ;;
    --limit-s) LIMIT=$2; shift ;;
    --device) DEVICE=$2; shift ;;
    --python) PY=$2; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$DRY" = 1 ] || COMPILE=1
DEVICE=${DEVICE:-$([ "$DRY" = 1 ] && echo cpu || echo cuda)}
BUDGET=${BUDGET:-$([ "$DRY" = 1 ] && echo 90 || echo 300)}
OUT=${OUT:-$ROOT/out/gpu-check}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
BUNDLE=${LODI_GPU_BUNDLE:-$ROOT/.gpu-bundle}
BUILD=$ROOT/out/gpu-build
FACTS=$OUT/.facts

fact() { printf '%s\t%s\n' "$1" "$(printf '%s' "$2" | tr '\t\n' '  ')" >>"$FACTS"; }
elapsed() { echo $(($(date +%s) - T0)); }
say() { echo "[gpu.sh $(date +%H:%M:%S) +$(elapsed)s] $*"; }

# shell.json from the facts (key<TAB>value; numbers and booleans typed; later keys win)
write_facts() {
  "${PY:-python3}" - "$FACTS" "$OUT/shell.json" <<'EOF' || echo "gpu.sh: could not write shell.json" >&2
import json, sys
d = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    k, _, v = line.rstrip("\n").partition("\t")
    if v in ("true", "false"):
        d[k] = v == "true"
    else:
        try:
            d[k] = int(v) if v.lstrip("-").isdigit() else float(v) if v.replace(".", "", 1).lstrip("-").isdigit() else v
        except ValueError:
            d[k] = v
json.dump(d, open(sys.argv[2], "w"), indent=1)
EOF
}

main() {
  : >"$FACTS"
  fact date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  fact host "$(hostname)"
  fact cores "$(nproc)"
  fact dry "$([ "$DRY" = 1 ] && echo true || echo false)"
  fact device "$DEVICE"
  fact commit "$(git rev-parse HEAD 2>/dev/null || echo '?')"
  say "GPU device check: device $DEVICE, budget $BUDGET s, limit $LIMIT s, output $OUT"
  [ -f "$BUNDLE/node.xz" ] && [ -f "$BUNDLE/app.tar" ] || { say "FATAL: $BUNDLE/node.xz or app.tar missing: run bash bench/gpu-bundle.sh first and carry .gpu-bundle"; return 1; }
  [ -f "$BUNDLE/MANIFEST.txt" ] && say "bundle: $(sed -n 2,4p "$BUNDLE/MANIFEST.txt" | tr '\n' ';')"

  # ---- 1. facts
  if [ "$DRY" = 0 ] && command -v nvidia-smi >/dev/null; then
    nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
    fact gpu "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
    say "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
  elif [ "$DRY" = 0 ]; then
    say "WARNING: no nvidia-smi"
  fi
  if [ -z "$PY" ]; then
    for p in python3 /usr/bin/python3 python; do
      if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
    done
  fi
  [ -n "$PY" ] || { say "FATAL: no python3 with torch"; PY=python3; write_facts; return 1; }
  PY=$(command -v "$PY")
  fact python "$PY"
  local info
  info=$("$PY" -c 'import torch,os; print(os.path.dirname(torch.__file__)); print(int(torch.compiled_with_cxx11_abi())); print(torch.__version__)') || { say "FATAL: $PY cannot import torch"; write_facts; return 1; }
  TORCH=$(sed -n 1p <<<"$info")
  ABI=$(sed -n 2p <<<"$info")
  fact torchDir "$TORCH"
  fact torchVersion "$(sed -n 3p <<<"$info")"
  fact cxx11abi "$ABI"
  local cuda_libs=''
  [ -e "$TORCH/lib/libtorch_cuda.so" ] && cuda_libs='-ltorch_cuda -lc10_cuda'
  # the CUDA runtime's headers, which c10/cuda's allocator header includes (the CUDA memory statistics)
  local cuda_inc=''
  for d in "${CUDA_HOME:-/nonexistent}/include" "$TORCH/../nvidia/cuda_runtime/include" /usr/local/cuda/include; do
    if [ -f "$d/cuda_runtime_api.h" ]; then cuda_inc=$d; break; fi
  done
  fact cudaInclude "${cuda_inc:-none}"
  fact torchCudaLibs "$([ -n "$cuda_libs" ] && echo true || echo false)"
  say "python $PY: torch $(sed -n 3p <<<"$info") in $TORCH (C++11 ABI $ABI, CUDA libraries: ${cuda_libs:-none})"
  # the CUDA libraries of the pip wheels (nvidia/*/lib), for libtorch_cuda's dependencies outside Python
  local nvlibs
  nvlibs=$("$PY" - "$TORCH" <<'EOF'
import glob, os, sys
site = os.path.dirname(sys.argv[1])
print(":".join(sorted(set(glob.glob(os.path.join(site, "nvidia", "*", "lib")) + glob.glob(os.path.join(site, "nvidia", "*", "*", "lib"))))))
EOF
)
  if [ -n "$nvlibs" ]; then
    export LD_LIBRARY_PATH="$nvlibs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fact nvidiaLibDirs "$(tr ':' '\n' <<<"$nvlibs" | wc -l)"
  fi

  # ---- 2. node and the JavaScript, into out/gpu-build (git- and lint-ignored)
  local t node app
  t=$(date +%s)
  mkdir -p "$BUILD"
  node=$BUILD/node
  app=$BUILD/app
  rm -rf "$app" "$node"
  if command -v xz >/dev/null; then
    xz -dc "$BUNDLE/node.xz" >"$node"
  else
    "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$BUNDLE/node.xz" "$node"
  fi
  chmod +x "$node"
  if ! "$node" --version >/dev/null 2>&1; then
    say "FATAL: the unpacked node does not run: $("$node" --version 2>&1 | head -3)"
    fact nodeError "$("$node" --version 2>&1 | head -3)"
    write_facts
    return 1
  fi
  mkdir -p "$app" && tar -C "$app" -xf "$BUNDLE/app.tar" || { say "FATAL: cannot unpack $BUNDLE/app.tar"; write_facts; return 1; }
  fact node "$("$node" --version)"
  fact unpackS "$(($(date +%s) - t))"
  say "node $("$node" --version) and app.tar unpacked into $BUILD in $(($(date +%s) - t)) s"

  # ---- 3. addon (a build of the same source against the same torch is reused: a rerun on a warm machine)
  local target=$app/node_modules/@lodi/torch/build/Release/lodi_torch.node
  mkdir -p "$(dirname "$target")"
  if [ "$COMPILE" = 1 ]; then
    # binding.gyp's C++17, or C++20 where the headers demand it (libtorch 2.14 and later)
    local std=c++17
    grep -q '__cplusplus < 202002L' "$TORCH/include/ATen/ATen.h" 2>/dev/null && std=c++20
    fact cxxStd "$std"
    local cached=$BUILD/lodi_torch.node
    local stamp
    stamp="$TORCH $(sed -n 3p <<<"$info") $std $ABI ${cuda_libs:-cpu} $(sha256sum packages/torch/src/addon.cc | cut -c1-16)"
    if [ "$REBUILD" = 0 ] && [ -f "$cached" ] && [ "$(cat "$BUILD/lodi_torch.stamp" 2>/dev/null)" = "$stamp" ]; then
      say "addon: reusing $cached (same source, same torch; --rebuild to compile anew)"
      fact addon "reused g++ build against $TORCH"
    else
      rm -f "$cached" "$BUILD/lodi_torch.stamp"
      local cmd=(g++ "-std=$std" -fexceptions -frtti -O2 -shared -fPIC -pthread -Wno-unused-parameter
        -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS "-D_GLIBCXX_USE_CXX11_ABI=$ABI" ${cuda_inc:+${cuda_libs:+-DLODI_CUDA_STATS -I$cuda_inc}}
        -I"$BUNDLE/include/node" -I"$BUNDLE/include/napi"
        -I"$TORCH/include" -I"$TORCH/include/torch/csrc/api/include"
        packages/torch/src/addon.cc -o "$cached"
        -L"$TORCH/lib" "-Wl,-rpath,$TORCH/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 $cuda_libs -Wl,--as-needed)
      say "compiling the addon: ${cmd[*]}"
      t=$(date +%s)
      "${cmd[@]}" >"$OUT/compile.log" 2>&1
      local rc=$?
      if [ "$rc" != 0 ] && [ -n "$cuda_libs" ] && [ -n "$cuda_inc" ]; then
        # the CUDA memory statistics are the one part that needs c10/cuda's headers: try once without them
        say "addon compile failed with -DLODI_CUDA_STATS; again without the CUDA memory statistics"
        fact cudaStatsCompile false
        mv "$OUT/compile.log" "$OUT/compile-cuda-stats.log"
        "${cmd[@]/-DLODI_CUDA_STATS/-UNO_STATS}" >"$OUT/compile.log" 2>&1
        rc=$?
      fi
      fact compileRc "$rc"
      fact compileS "$(($(date +%s) - t))"
      fact addon "g++ against $TORCH"
      if [ "$rc" != 0 ]; then
        say "addon compile FAILED (status $rc) after $(($(date +%s) - t)) s:"
        grep -m10 -B2 -A3 'error' "$OUT/compile.log" | head -40
        fact compileError "$(grep -m3 'error' "$OUT/compile.log")"
        rm -f "$cached"
      else
        say "addon compiled in $(($(date +%s) - t)) s ($(du -m "$cached" | cut -f1) MB)"
        printf '%s' "$stamp" >"$BUILD/lodi_torch.stamp"
      fi
    fi
    [ -f "$cached" ] && cp "$cached" "$target"
  else
    ADDON=${ADDON:-$ROOT/packages/torch/build/Release/lodi_torch.node}
    if [ -f "$ADDON" ]; then
      cp "$ADDON" "$target"
      fact addon "prebuilt $ADDON"
      say "dry run: using the prebuilt addon $ADDON"
    else
      say "no prebuilt addon at $ADDON (use --addon FILE or --compile)"
      fact addon "missing"
    fi
  fi
  if [ -f "$target" ]; then
    ldd "$target" >"$OUT/ldd.txt" 2>&1
    if grep -q 'not found' "$OUT/ldd.txt"; then
      say "WARNING: unresolved libraries of the addon: $(grep 'not found' "$OUT/ldd.txt" | tr -s ' \t\n' ' ')"
    fi
  fi

  # ---- 4. check (with the GPU memory sampled)
  local sampler=''
  if [ "$DRY" = 0 ] && command -v nvidia-smi >/dev/null; then
    (while :; do
      m=$(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits 2>/dev/null | head -1 | tr -d ' ')
      [ -n "$m" ] && echo "$(date +%s.%N),$m"
      sleep 0.5
    done) >"$OUT/gpu-mem.csv" &
    sampler=$!
  fi
  local guard=$((LIMIT - $(elapsed) - 25))
  local budget=$BUDGET
  if [ "$budget" -gt $((guard - 60)) ]; then
    budget=$((guard - 60))
    say "budget reduced to $budget s to fit the limit ($LIMIT s in all)"
  fi
  if [ "$budget" -lt 30 ]; then
    say "FATAL: only $guard s left for the check"
    fact checkRc skipped
  else
    fact budgetS "$budget"
    write_facts
    local args=(--out "$OUT" --device "$DEVICE" --budget-s "$budget" --hard-s $((guard - 10)) --repo "$ROOT" --python "$PY")
    [ "$DRY" = 1 ] && args+=(--dry)
    args+=(${EXTRA[@]+"${EXTRA[@]}"})
    say "check: $node $app/dist/bench/gpu-check.js ${args[*]} (killed after $guard s)"
    t=$(date +%s)
    timeout -k 10 "$guard" "$node" "$app/dist/bench/gpu-check.js" "${args[@]}"
    local rc=$?
    fact checkRc "$rc"
    fact checkS "$(($(date +%s) - t))"
    say "check finished with status $rc after $(($(date +%s) - t)) s"
  fi
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    nvidia-smi >>"$OUT/nvidia-smi.txt" 2>&1
  fi

  # ---- 5. results
  fact totalS "$(elapsed)"
  write_facts
  if [ -s "$OUT/gpu-check.json" ]; then
    "$node" "$app/dist/bench/gpu-check.js" --finalize --out "$OUT" || say "finalize failed"
  else
    say "the check wrote no results; gpu-check.json from this script's facts only"
    "$PY" - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
sh = json.load(open(os.path.join(out, "shell.json")))
json.dump({"kind": "lodi-gpu-check", "version": 1, "error": "the check did not run; see gpu.log", "shell": sh}, open(os.path.join(out, "gpu-check.json"), "w"), indent=1)
open(os.path.join(out, "gpu-check.md"), "w").write("# GPU device check\n\nThe check did not run; see gpu.log and compile.log.\n\n" + "\n".join(f"- {k}: {v}" for k, v in sh.items()) + "\n")
EOF
  fi
  rm -f "$FACTS"
  say "done: $OUT/gpu-check.md"
  echo
  cat "$OUT/gpu-check.md"
}

main 2>&1 | tee -a "$OUT/gpu.log"
exit "${PIPESTATUS[0]}"
