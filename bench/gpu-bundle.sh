#!/usr/bin/env bash
# Builds .gpu-bundle/: what a GPU machine without Node and without network needs to run the device
# check (bash bench/gpu.sh there; BENCHMARKS.md, "GPU device check"). Run it here, before the GPU
# run, and carry .gpu-bundle with the working tree (it is git-ignored):
#
#   bash bench/gpu-bundle.sh [--no-build]
#
#   node.xz         this machine's node binary, xz -9
#   include/node/   Node's N-API headers (node_api.h, node_api_types.h, js_native_api*.h)
#   include/napi/   node-addon-api's headers (napi.h, napi-inl.h, napi-inl.deprecated.h)
#   app.tar         the compiled JavaScript the check runs (npm run build: tsc only), as gpu.sh unpacks
#                   it into out/gpu-build/app/: dist/src/, dist/bench/{gpu-check,lib}.js, package.json
#                   ({"type": "module"}) and node_modules/@lodi/torch/ (package.json and dist/ of
#                   packages/torch as a real directory; gpu.sh compiles the addon into its build/Release/)
#   MANIFEST.txt    commit, date, versions, files
#
# The check imports only node built-ins, '@lodi/torch' and dist/src (no commander, h5wasm, vega, resvg).
# The JavaScript travels as a tar so that ESLint (which lints every .js outside its ignores) and the
# working tree see no generated code.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${LODI_GPU_BUNDLE:-$ROOT/.gpu-bundle}
MAX_MB=60
cd "$ROOT"

if [ "${1:-}" != "--no-build" ]; then
  echo "gpu-bundle: npm run build (tsc)"
  npm run build --silent
fi
for f in dist/bench/gpu-check.js dist/bench/lib.js packages/torch/dist/index.js; do
  [ -f "$f" ] || { echo "gpu-bundle: $f missing (npm run build)" >&2; exit 1; }
done

NODE_BIN=$(command -v node)
NODE_INC=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")")/include/node
[ -f "$NODE_INC/node_api.h" ] || NODE_INC=/usr/include/node
NAPI_INC=$ROOT/node_modules/node-addon-api
for f in "$NODE_INC/node_api.h" "$NAPI_INC/napi.h"; do
  [ -f "$f" ] || { echo "gpu-bundle: $f missing" >&2; exit 1; }
done

rm -rf "$B"
mkdir -p "$B/include/node" "$B/include/napi"

echo "gpu-bundle: compressing $NODE_BIN ($(du -m "$NODE_BIN" | cut -f1) MB) with xz -T2 -9"
t0=$(date +%s)
xz -T2 -9 -c "$NODE_BIN" >"$B/node.xz"
echo "gpu-bundle: node.xz $(du -m "$B/node.xz" | cut -f1) MB in $(($(date +%s) - t0)) s"

for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do
  cp "$NODE_INC/$h" "$B/include/node/"
done
for h in napi.h napi-inl.h napi-inl.deprecated.h; do
  [ -f "$NAPI_INC/$h" ] && cp "$NAPI_INC/$h" "$B/include/napi/"
done

# compiled JavaScript (no declarations, no source maps), staged and packed into app.tar
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist" "$stage/node_modules/@lodi/torch"
tar -C dist -cf - --exclude='*.d.ts' --exclude='*.map' src bench/gpu-check.js bench/lib.js | tar -C "$stage/dist" -xf -
cp packages/torch/package.json "$stage/node_modules/@lodi/torch/"
tar -C packages/torch -cf - --exclude='*.d.ts' --exclude='*.map' dist | tar -C "$stage/node_modules/@lodi/torch" -xf -
printf '{ "name": "lodi-gpu-bundle", "private": true, "type": "module" }\n' >"$stage/package.json"
tar -C "$stage" -cf "$B/app.tar" .

{
  echo "lodi GPU bundle (bench/gpu-bundle.sh)"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo '?')"
  echo "uncommitted files under src/ bench/ packages/ at bundling: $(git status --porcelain -- src bench packages 2>/dev/null | wc -l)"
  echo "node: $("$NODE_BIN" --version) ($NODE_BIN); N-API headers from $NODE_INC; node-addon-api $(node -p "require('$NAPI_INC/package.json').version")"
  echo
  (cd "$B" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2)
  echo
  echo "app.tar:"
  tar -tvf "$B/app.tar" | awk '$3 > 0 { print $3 "\t" $6 }'
} >"$B/MANIFEST.txt"

bytes=$(du -sb "$B" | cut -f1)
mb=$(((bytes + 1048575) / 1048576))
echo "gpu-bundle: $B: $mb MiB ($bytes bytes): $(cd "$B" && du -h node.xz app.tar | tr '\t\n' ' ')+ headers"
if [ "$mb" -gt "$MAX_MB" ]; then
  echo "gpu-bundle: larger than $MAX_MB MiB: the carried paths may hold 64 MiB in all" >&2
  exit 1
fi
