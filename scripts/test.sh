#!/usr/bin/env bash
# The test command: installs what the tests need, builds, runs every test project.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Dicom").
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 2
dotnet build SpineXR.sln -c Release -nologo -v q || exit 2
log=$(mktemp)
# The test hosts run on tcmalloc, as spinexr does (it restarts itself with it; see docs/native.md). SPINEXR_ALLOCATOR=system
# keeps glibc malloc for them too.
tcmalloc=/usr/lib/$(uname -m)-linux-gnu/libtcmalloc_minimal.so.4
if [ -f "$tcmalloc" ] && [ "${SPINEXR_ALLOCATOR:-}" != system ]; then export LD_PRELOAD="$tcmalloc${LD_PRELOAD:+:$LD_PRELOAD}"; fi
dotnet test SpineXR.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
