#!/usr/bin/env bash
# The test command: installs what the tests need, builds, runs every test project.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Dicom").
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 2
dotnet build SpineXR.sln -c Release -nologo -v q || exit 2
log=$(mktemp)
# The test hosts stay on glibc malloc (spinexr itself restarts on tcmalloc; DoctorCommandTests checks that): one
# run of the suite under a tcmalloc preload saw TorchSharp's AdamW read a corrupted Scalar (see README, Status).
# SPINEXR_TEST_TCMALLOC=1 preloads it for the test hosts anyway (Vision tests 2:05 -> 1:48).
tcmalloc=/usr/lib/$(uname -m)-linux-gnu/libtcmalloc_minimal.so.4
if [ -f "$tcmalloc" ] && [ "${SPINEXR_TEST_TCMALLOC:-}" = 1 ]; then export LD_PRELOAD="$tcmalloc${LD_PRELOAD:+:$LD_PRELOAD}"; fi
dotnet test SpineXR.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
