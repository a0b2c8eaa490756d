#!/usr/bin/env bash
# The training tools outside C (models/train/): augment.py's own checks (measured RT60 of
# its room responses, AGC level spread, mix SNR, codec length and alignment, FLAC writer,
# determinism across --jobs, the cache), oof_report.py on four scored clips, gate.py on
# three small gate files and teacher_filter.py on five clips. They need
# Debian's python3 with numpy and ffmpeg.
set -u
SRC=${CM_SOURCE_DIR:?}
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "python3-numpy not installed (make check installs it)" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not installed (make check installs it)" >&2; exit 1; }
cd "$SRC" && /usr/bin/python3 models/train/test_augment.py || exit 1
# oof_report.py on four scored clips: the counts, F1 at the fold thresholds and the best global.
T=$(mktemp -d) && trap 'rm -rf "$T"' EXIT
printf 'path,label,group,source\na/c1.flac,cry_infant,g1,s1\na/c2.flac,cry_infant,g2,s2\nb/m.flac,cat,g3,s3\nb/n.flac,noise,g4,s3\n' > "$T/m.csv"
printf 'cry_infant\t0\t16000\t0.95\t0\t0.9\tR/a/c1.flac\ncry_infant\t1\t16000\t0.80\t0\t0.9\tR/a/c2.flac\ncat\t1\t8000\t0.92\t0\t0.9\tR/b/m.flac\nnoise\t0\t16000\t0.10\t0\t0.9\tR/b/n.flac\n' > "$T/c.tsv"
out=$(/usr/bin/python3 models/train/oof_report.py "$T/m.csv" "$T/c.tsv") || { echo "oof_report.py failed" >&2; exit 1; }
fails=0
for want in "$(printf 's1\tcry_infant\t1\t1\t1.000')" "$(printf 's2\tcry_infant\t0\t1\t0.000')" \
    "$(printf 's3\tcat\t1\t1\t1.000\t0.920')" "clip cry F1 at the fold thresholds: 0.500" \
    "best global threshold 0.80: clip cry F1 0.800"; do
    grep -qF "$want" <<< "$out" || { echo "FAIL: oof_report.py: no '$want' in:" >&2; echo "$out" >&2; fails=1; }
done
printf 'x\t0\n' > "$T/bad.tsv"
/usr/bin/python3 models/train/oof_report.py "$T/m.csv" "$T/bad.tsv" 2>&1 | grep -q "bad.tsv:1: 2 fields, expected 7" ||
    { echo "FAIL: oof_report.py: a short line is not named" >&2; fails=1; }
# gate.py: a candidate better on one figure and worse on another fails and names the figure;
# one at least as good everywhere passes; a malformed line is named.
printf 'clip_f1\t0.80\thigher\t10\nfalse_cry_episodes_per_h\t12.0\tlower\t3\n' > "$T/b.tsv"
printf 'clip_f1\t0.85\thigher\t10\nfalse_cry_episodes_per_h\t13.0\tlower\t3\n' > "$T/c1.tsv"
printf 'clip_f1\t0.80\thigher\t10\nfalse_cry_episodes_per_h\t11.0\tlower\t3\n' > "$T/c2.tsv"
out=$(/usr/bin/python3 models/train/gate.py -b base="$T/b.tsv" worse="$T/c1.tsv")
[ $? = 1 ] && grep -qF "worse: FAIL, worse on 1: false_cry_episodes_per_h 13.000 vs base 12.000" <<< "$out" &&
    grep -qF "| clip_f1 (10) | higher | 0.800 | 0.850 |" <<< "$out" ||
    { echo "FAIL: gate.py on a worse candidate:" >&2; echo "$out" >&2; fails=1; }
out=$(/usr/bin/python3 models/train/gate.py -b base="$T/b.tsv" good="$T/c2.tsv")
[ $? = 0 ] && grep -qF "good: PASS" <<< "$out" || { echo "FAIL: gate.py on a passing candidate: $out" >&2; fails=1; }
# Two runs of one recipe (two training seeds) are compared by their mean: 12.0 false episodes
# per hour ties the baseline, clip F1 0.825 beats it.
out=$(/usr/bin/python3 models/train/gate.py -b base="$T/b.tsv" mean="$T/c1.tsv,$T/c2.tsv")
[ $? = 0 ] && grep -qF "| clip_f1 (10) | higher | 0.800 | 0.825 |" <<< "$out" ||
    { echo "FAIL: gate.py mean of two runs: $out" >&2; fails=1; }
printf 'clip_f1\tx\thigher\t10\n' > "$T/bad2.tsv"
/usr/bin/python3 models/train/gate.py -b base="$T/b.tsv" c="$T/bad2.tsv" 2>&1 | grep -q "bad2.tsv:1: value 'x'" ||
    { echo "FAIL: gate.py: a bad value is not named" >&2; fails=1; }
# teacher_filter.py: a human non-cry clip the teacher hears as crying leaves training; a cat,
# a cry and an infant laugh with the same score stay (the teacher is wrong there, or the
# confusion is what the model must learn); a low score stays.
printf 'path,label,group\na.flac,other,g1\nb.flac,cat,g2\nc.flac,cry_adult,g3\nd.flac,laugh_infant,g4\ne.flac,scream,g5\n' > "$T/tm.csv"
/usr/bin/python3 - "$T/teach.csv.gz" <<'PY'
import gzip, sys
keys = ["Crying, sobbing", "Baby cry, infant cry", "Wail, moan", "Cat"]
rows = [("a.flac", 0, 0.1), ("a.flac", 1, 0.7), ("b.flac", 0, 0.9), ("c.flac", 0, 0.9),
        ("d.flac", 0, 0.9), ("e.flac", 0, 0.2)]
with gzip.open(sys.argv[1], "wt") as f:
    f.write("path,patch,start_s,end_s," + ",".join(f'"{k}"' for k in keys) + "\n")
    for p, i, s in rows:
        f.write(f"{p},{i},0,0.96,{s},0,0,0\n")
PY
out=$(/usr/bin/python3 models/train/teacher_filter.py "$T/tm.csv" "$T/teach.csv.gz" 2>"$T/tf.err")
[ "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" = "path b.flac c.flac d.flac e.flac " ] &&
    grep -q "left out of training: a.flac (other, teacher cry 0.70)" "$T/tf.err" ||
    { echo "FAIL: teacher_filter.py: $out / $(cat "$T/tf.err")" >&2; fails=1; }
exit $fails
