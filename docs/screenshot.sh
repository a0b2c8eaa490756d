#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes docs/report.png, the README's picture of the night report: samples/demo.flac
# analysed with a clock start and a level track, drawn by `crymeter report`, photographed
# by headless Chromium (Debian's chromium package; `make screenshot` runs this).
#   bash docs/screenshot.sh [path/to/crymeter]
set -euo pipefail
cd "$(dirname "$0")/.."
CRYMETER=${1:-./build/crymeter}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$CRYMETER" analyze -f jsonl --no-progress --level-step 1 --start 2026-12-01T21:00:00+01:00 \
    -o "$tmp/demo.jsonl" samples/demo.flac
"$CRYMETER" report --title "crymeter report: samples/demo.flac" -o "$tmp/demo.html" "$tmp/demo.jsonl"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1200,1130 \
    --screenshot="$tmp/report.png" "file://$tmp/demo.html" 2>/dev/null
mv "$tmp/report.png" docs/report.png
echo "docs/report.png written"
