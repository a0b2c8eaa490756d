#!/usr/bin/env bash
# The fold models home_eval.py scores homes with (models/README.md, "Home models"): the
# default's recipe (waves 1-2, seed 1) trained six times, each time without one fold of the
# gate's six source folds, so that every home is judged by a model that never heard its
# source. 3 min per fold on one core.
#   bash models/train/home_folds.sh FOLDS6.CSV OUT_DIR [DATA_DIR]
# FOLDS6.CSV: `crymeter evaluate --manifest all.csv --cv source --source-folds 6 --seed 1
# --folds-out FOLDS6.CSV` (the gate's folds). OUT_DIR gets fold0.json .. fold5.json and
# path_fold.csv (manifest path, fold) for home_eval.py --path-fold.
set -euo pipefail
cd "$(dirname "$0")/../.."
FOLDS=$1 OUT=$2
DATA=$(cd "${3:-../shared/data}" && pwd)
mkdir -p "$OUT"
/usr/bin/python3 - "$FOLDS" "$OUT" "$DATA" <<'PY'
import csv, io, os, sys
folds_csv, out, data = sys.argv[1:4]
fold = {}
for r in csv.DictReader(open(folds_csv, encoding="utf-8")):
    p = r["path"]
    fold[p[len(data) + 1:] if p.startswith(data + "/") else p] = int(r["fold"])
with open(os.path.join(out, "path_fold.csv"), "w", encoding="utf-8") as f:
    for p, k in fold.items():
        f.write(f"{p},{k}\n")
lines = open(os.path.join(data, "manifest.csv"), encoding="utf-8").read().splitlines(True)
# The default's data: waves 1-2, without the 5 kHz clip (models/train/make_default.sh).
rows = [l for l in lines[1:] if "space__apollo_lander.flac" not in l
        and not l.lstrip('"').startswith("audio/v3/")]
for k in range(6):
    keep = [l for l in rows if fold.get(next(csv.reader(io.StringIO(l)))[0], -1) != k]
    open(os.path.join(out, f"m_fold{k}.csv"), "w", encoding="utf-8").write(lines[0] + "".join(keep))
PY
for k in 0 1 2 3 4 5; do
    ./build/crymeter calibrate --manifest "$OUT/m_fold$k.csv" --data-root "$DATA" --seed 1 \
        -o "$OUT/fold$k.json" --force
done
