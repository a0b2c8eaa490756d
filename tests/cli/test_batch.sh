#!/usr/bin/env bash
# README "A folder, or a cluster: batch work at scale": runs its blocks as written (found by their <!-- batch-* -->
# markers) on copies of the demo and one unreadable file. GNU parallel runs on this machine
# only (-S hosts -> -j 2: no ssh here) and the Slurm script runs once per array index
# without Slurm. Checks one JSON Lines file per recording, identical to a direct
# `crymeter analyze -f jsonl`, the failure in the job log with its error record, and the
# pandas and R snippets' per-file cry totals against the records.
set -u
CRYMETER=${CRYMETER:?} CM_SOURCE_DIR=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
readme=$CM_SOURCE_DIR/README.md
demo=$CM_SOURCE_DIR/samples/demo.flac
/usr/bin/python3 -c 'import pandas' 2>/dev/null || python3 -c 'import pandas' 2>/dev/null ||
    { echo "missing pandas (make deps installs python3-pandas)" >&2; exit 1; }
Rscript -e 'library(jsonlite)' >/dev/null 2>&1 || { echo "missing R's jsonlite (make deps installs r-cran-jsonlite)" >&2; exit 1; }
for t in parallel python3 Rscript; do
    command -v $t >/dev/null || { echo "missing $t (make deps installs parallel, python3-pandas, r-base-core, r-cran-jsonlite)" >&2; exit 1; }
done
block() { # MARKER -> the fenced block after <!-- MARKER
    awk -v m="<!-- $1" 'index($0, m) == 1 { f = 1; next }
        f == 1 && /^```/ { f = 2; next } f == 2 && /^```/ { exit } f == 2' "$readme"
}
for m in batch-parallel batch-slurm batch-pandas batch-r; do
    [ -n "$(block $m)" ] && ok || { bad "README has no block after <!-- $m"; finish; exit 1; }
done
export PATH="$(dirname "$CRYMETER"):$PATH"
W=$T/w # not $T itself: lib.sh keeps $T/out and $T/err
mkdir "$W" && cd "$W"
mkdir rec
cp "$demo" rec/a.flac; cp "$demo" rec/b.flac; cp "$demo" rec/c.flac
echo "not audio" > rec/broken.flac

block batch-parallel | sed "s|/data/rec|$W/rec|; s|-S [^ ]*|-j 2|" > parallel.sh
bash parallel.sh > parallel.out 2>&1
for r in a b c broken; do [ -s "out/$r.jsonl" ] && ok || bad "parallel: no out/$r.jsonl"; done
awk -F'\t' 'NR > 1 { n = split($NF, p, "/"); print $7, p[n] }' jobs.log | sort > status
grep -qx "1 broken.flac" status && ok || bad "jobs.log lacks exit 1 for broken.flac: $(cat status)"
[ "$(grep -c '^0 ' status)" = 3 ] && ok || bad "jobs.log: $(cat status)"
grep -q '"type":"error"' out/broken.jsonl && ok || bad "no error record for broken.flac"
crymeter analyze -f jsonl "$W/rec/a.flac" > direct.jsonl
cmp -s direct.jsonl out/a.jsonl && ok || bad "out/a.jsonl differs from crymeter analyze -f jsonl"
# Rerunning redoes only the failure (--resume-failed).
bash parallel.sh > /dev/null 2>&1
[ "$(grep -c broken.flac jobs.log)" -ge 2 ] && [ "$(grep -c a.flac jobs.log)" = 1 ] && ok ||
    bad "rerun: jobs.log $(cat jobs.log)"

mkdir slurm && cd slurm && cp ../todo.txt . && mkdir out logs
block batch-slurm > crymeter.sbatch
n=$(wc -l < todo.txt)
for ((i = 0; i < n; i++)); do SLURM_ARRAY_TASK_ID=$i bash crymeter.sbatch 2> /dev/null; done
for r in a b c; do cmp -s "out/$r.jsonl" "../out/$r.jsonl" && ok || bad "slurm out/$r.jsonl differs"; done
cd "$W"

# Expected per-file cry totals, from the records themselves.
python3 - > expected <<'PY'
import glob, json, os
for f in sorted(glob.glob("out/*.jsonl")):
    recs = [json.loads(l) for l in open(f)]
    cry = [r for r in recs if r["type"] == "episode" and r["class"] == "cry"]
    if cry: print(os.path.basename(cry[0]["file"]), len(cry), sum(r["duration_s"] for r in cry))
PY
[ "$(wc -l < expected)" = 3 ] && ok || bad "expected cry totals for 3 files: $(cat expected)"

block batch-pandas > load.py
# Debian's python3-pandas is for Debian's python3, which may not be the first on PATH.
py=python3
python3 -c 'import pandas' 2>/dev/null || py=/usr/bin/python3
expect 0 "" -- $py load.py
cp "$T/out" pandas.out
block batch-r > load.R
expect 0 "" -- Rscript load.R
cp "$T/out" r.out
while read -r file n total; do
    # pandas: "<path> cry <episodes> <total_s> <loudest> <excessive>"
    line=$(grep -E "/$file +cry " pandas.out)
    awk -v n="$n" -v t="$total" '{ exit !($3 == n && ($4 - t) ^ 2 < 1e-6) }' <<< "$line" && ok ||
        bad "pandas: $file cry: '$line', expected $n episodes, $total s"
    # R: "<row> <path> cry <total>"
    line=$(grep -E "/$file +cry " r.out)
    awk -v t="$total" '{ exit !(($NF - t) ^ 2 < 1e-4) }' <<< "$line" && ok ||
        bad "R: $file cry: '$line', expected $total s"
done < expected
grep -qE "/a\.flac +62(\.0)? +4 +-23\.94" pandas.out && ok || bad "pandas summaries: $(cat pandas.out)"
finish
