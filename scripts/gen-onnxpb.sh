#!/usr/bin/env bash
# Regenerates onnxpb/onnx-ml.pb.go from the ONNX schema that Debian's python3-onnx
# ships (ONNX 1.12, IR 8). Installs protoc and protoc-gen-go if they are missing.
# The output is byte-identical for the same protoc, protoc-gen-go and schema.
set -euo pipefail
cd "$(dirname "$0")/.."

schema_dir=/usr/lib/python3/dist-packages/onnx
if [ ! -f "$schema_dir/onnx-ml.proto" ] || ! command -v protoc >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-onnx protobuf-compiler >/dev/null
fi
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/protoc-gen-go" ] || ! "$gobin/protoc-gen-go" --version | grep -q 'v1.36.12'; then
  go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
fi

module=$(go list -m)
PATH="$gobin:$PATH" protoc \
  --proto_path="$schema_dir" \
  --go_out=onnxpb --go_opt=paths=source_relative \
  --go_opt=Monnx-ml.proto="$module/onnxpb" \
  onnx-ml.proto
echo "regenerated onnxpb/onnx-ml.pb.go from $schema_dir/onnx-ml.proto ($(protoc --version))"
