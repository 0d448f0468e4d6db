#!/usr/bin/env bash
# Installs what SpineXR needs on Debian 12 (as root, with apt) or names what is missing.
#   scripts/setup.sh          runtime needs: codec libraries, tcmalloc (libtorch runs faster on it), fonts
#   scripts/setup.sh --test   + Chromium for the browser tests, dicom3tools and dcmtk for the DICOM result checks,
#                             Orthanc and its DICOMweb plugin for the PACS round trip (each test starts its own)
#   scripts/setup.sh --dev    + the Python/dcmtk reference oracles used by tools/ to make fixtures
set -euo pipefail
want=(libopenjp2-7 libcharls2 libtcmalloc-minimal4 fonts-dejavu-core)
for a in "$@"; do
  case "$a" in
    --test) want+=(chromium dicom3tools dcmtk orthanc orthanc-dicomweb) ;;
    --dev) want+=(chromium python3-pydicom python3-gdcm libgdcm-tools dcmtk python3-sklearn python3-torch python3-torchvision python3-opencv python3-numpy libopenjp2-tools openjph-tools) ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
