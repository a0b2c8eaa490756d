#!/usr/bin/env bash
# Rebuilds models/anchors.json, the crying `crymeter adapt` holds a home's corrections
# against (models/README.md, "Home models"): the window features of every cry clip of the
# shared data whose licence lets the derived features ship, donateacry and its machine-
# labelled uploads (DbCL 1.0 contents) and ESC-10's baby cries (CC BY 3.0), 506 clips from
# many families and phones, thinned to at most 1,280 windows (every k-th in file-name order). Runs in
# seconds; the same data gives the same bytes.
#   bash models/train/make_anchors.sh [DATA_DIR]      (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$(cd "${1:-../shared/data}" && pwd)
A=${WORK:-build/train}/anchors
rm -rf "$A"
mkdir -p "$A"
/usr/bin/python3 - "$DATA" "$A" <<'PY'
import csv, os, sys
data, out = sys.argv[1:3]
for r in csv.DictReader(open(os.path.join(data, "manifest.csv"), encoding="utf-8")):
    if r["label"] in ("cry_infant", "cry_adult") and r["source"] in (
            "donateacry", "donateacry-unverified-cry", "esc10"):
        os.symlink(os.path.join(data, r["path"]),
                   os.path.join(out, r["source"] + "__" + os.path.basename(r["path"])))
PY
./build/crymeter adapt --anchors "$A" --write-anchors models/anchors.json --force
