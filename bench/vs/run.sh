#!/usr/bin/env bash
# Compares this tree's A-weighting (src/dsp/aweight.c) and window features
# (src/detect/winfeat.c) with the versions at a previous commit: results (A-weighting: largest
# relative difference; features: identical bits) and time. The figures of bench/README.md's
# session-4 list and of those files' commits come from this.
#
#   bash bench/vs/run.sh [REV]      # REV: the previous version, default 63ec9c2 (session 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:-63ec9c2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The previous files, their public names renamed so both link into one program.
git show "$rev:src/dsp/aweight.c" | sed 's/cm_aw_/old_aw_/g; s/struct cm_aw\b/struct old_aw/g;
  s/\bcm_aw\b/old_aw/g; s/cm_db_from_ms/old_db_from_ms/;
  0,/^#include "crymeter\/loudness.h"/s//#include "crymeter\/loudness.h"\ntypedef struct old_aw old_aw;/' \
  > "$tmp/old_aw.c"
git show "$rev:src/detect/winfeat.c" | sed 's/cm_wf_compute/old_wf_compute/;
  s/^const char \*cm_wf_name/static const char *old_unused_name/;
  s/^size_t cm_wf_n_windows/static size_t old_unused_nw/;
  s/^size_t cm_wf_window_start/static size_t old_unused_ws/' > "$tmp/old_wf.c"
cc="gcc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -w"
$cc bench/vs/aw_cmp.c "$tmp/old_aw.c" src/dsp/aweight.c src/status.c -lm -o "$tmp/aw_cmp"
$cc bench/vs/aw_speed.c "$tmp/old_aw.c" src/dsp/aweight.c src/status.c -lm -o "$tmp/aw_speed"
$cc bench/vs/wf_cmp.c "$tmp/old_wf.c" src/detect/winfeat.c -lm -o "$tmp/wf_cmp"
$cc bench/vs/wf_speed.c "$tmp/old_wf.c" src/detect/winfeat.c -lm -o "$tmp/wf_speed"
echo "A-weighting, $rev against this tree:"; "$tmp/aw_cmp"
"$tmp/aw_speed" 16000; "$tmp/aw_speed" 44100
echo "Window features, $rev against this tree:"; "$tmp/wf_cmp"; "$tmp/wf_speed"
