#!/usr/bin/env bash
# The project's test command: installs the references (ONNX Runtime, PyTorch,
# onnx, ONNX node tests), then runs gofmt, go vet (also of the arm64 build) and every Go test with the
# references required, so nothing skips; then builds the Python wheel and runs
# its tests (python/tests: fresh venvs, ONNX Runtime for Python, PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

scripts/install-refs.sh

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on: $unformatted" >&2
  exit 1
fi
go vet ./...
# The portable (non-amd64) build, tests included: the assembly paths have Go
# fallbacks that must keep compiling.
GOARCH=arm64 go vet ./...
# The architectures the evaluator is checked on against ONNX Runtime (the
# CI subset of verify/archs_test.go; scripts/verify-archs.sh runs all 20),
# exported once into a git-ignored cache.
/usr/bin/python3 testdata/archs/export.py testdata/archs/cache \
  resnet18 mobilenet_v3_small vit_small text_classifier lraspp_mobilenet_v3_large
ONNXLOSS_REQUIRE_REFS=1 go test -count=1 ./... "$@"
# The conformance count, for the log: "N of M node tests run, all passed".
ONNXLOSS_REQUIRE_REFS=1 go test -count=1 -run '^TestConformance$' -v ./verify/eval | grep 'node tests run'

# The Python package: build the wheel, install it into fresh venvs, test the
# API and the console script. pytest's exit 5 (no tests collected) is a failure.
wheel_dir="$(mktemp -d)"
trap 'rm -rf "$wheel_dir"' EXIT
wheel="$(scripts/build-wheel.sh "$wheel_dir")"
py=/usr/bin/python3
[ -x .venv/bin/python ] && py=.venv/bin/python
rc=0
ONNXLOSS_WHEEL="$wheel" "$py" -m pytest -q -p no:cacheprovider python/tests || rc=$?
case "$rc" in
  0) ;;
  5) echo "python/tests: pytest collected no tests" >&2; exit 1 ;;
  *) exit "$rc" ;;
esac
