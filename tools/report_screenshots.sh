#!/bin/sh
# The report pictures of README.md and docs/demo.md: headless Chromium (Debian `chromium`) screenshots of a demo's two report pages.
# usage: sh tools/report_screenshots.sh DEMO_OUT   (e.g. /tmp/demo-new from `./spinexr demo --out /tmp/demo-new`)
set -eu
out=${1:?usage: sh tools/report_screenshots.sh DEMO_OUT}
shot() { chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$1" --screenshot="$2" "file://$3" 2>/dev/null; }
shot 1100,1500 docs/images/demo-report.png "$(realpath "$out/report/index.html")"
shot 1100,1300 docs/images/predict-report.png "$(realpath "$out/predict/report.html")"
