#!/usr/bin/env bash
# Builds the onnxloss wheel: python/ with the static binary of cmd/onnxloss
# (CGO_ENABLED=0, -trimpath) inside, tagged for GOOS/GOARCH (default: this
# machine; e.g. GOOS=darwin GOARCH=arm64 for a macOS wheel), versioned by
# inject.Version. Prints the wheel's path on stdout.
#
#   scripts/build-wheel.sh [OUTDIR]        (default OUTDIR: python/dist)
#
# Python: $PYTHON, else /usr/bin/python3. With hatchling importable (Debian's
# python3-hatchling, from scripts/install-refs.sh) the build is offline;
# otherwise pip fetches hatchling from PyPI into an isolated build env.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
out="${1:-python/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
py="${PYTHON:-/usr/bin/python3}"

isolation=()
if "$py" -c 'import hatchling' 2>/dev/null; then
  isolation=(--no-build-isolation)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# pip builds python/ in place; the build hook runs `go build` in the repo root.
if ! "$py" -m pip wheel --disable-pip-version-check --no-deps "${isolation[@]}" -w "$out" ./python >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
version="$(sed -n 's/^var Version = "\(.*\)"$/\1/p' inject/inject.go)"
wheel="$(ls -t "$out"/onnxloss-"$version"-py3-none-*.whl | head -n1)"
echo "$wheel"
