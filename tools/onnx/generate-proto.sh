#!/usr/bin/env bash
# Regenerates src/SpineXR.Vision/Onnx/Proto/OnnxSubset.cs from onnx_subset.proto with the protoc that ships in
# NuGet Google.Protobuf.Tools (restore it first, e.g. by building once with it referenced, or `dotnet restore`).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(grep -oP 'Include="Google.Protobuf" Version="\K[^"]+' "$here/Directory.Packages.props")"
tools="${NUGET_PACKAGES:-$HOME/.nuget/packages}/google.protobuf.tools/$version/tools"
[ -x "$tools/linux_x64/protoc" ] || chmod +x "$tools/linux_x64/protoc" 2>/dev/null || { echo "no protoc at $tools (restore Google.Protobuf.Tools $version)" >&2; exit 2; }
proto="$here/src/SpineXR.Vision/Onnx/Proto"
"$tools/linux_x64/protoc" -I "$proto" -I "$tools" --csharp_out="$proto" --csharp_opt=file_extension=.g.cs "$proto/onnx_subset.proto"
echo "wrote $proto/OnnxSubset.g.cs"
