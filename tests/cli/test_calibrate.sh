#!/usr/bin/env bash
# crymeter calibrate and evaluate on a manifest: each classifier type (ensemble, the default;
# mlp; trees) written as its model format, the detector options landing in the model file,
# training deterministic for a seed, the model usable by analyze and evaluate, and the option
# combinations they refuse. The clips are the bundled samples (10 clips, 3 classes) plus a
# pink-noise clip and a second group of the sneeze, so 2 folds have 4 clips of each class.
set -u
CRYMETER=${CRYMETER:?}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"
# check FILE PYTHON-EXPRESSION: the model file, parsed as m, satisfies the expression.
check() {
    python3 - "$1" "$2" <<'EOF' && ok || bad "$1: not ($2)"
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}

mkdir -p "$T/data/clips"
cp "$SRC"/samples/clips/* "$T/data/clips/"
sox -n -r 16000 -c 1 "$T/data/clips/pink.wav" synth 3 pinknoise vol 0.3
tr '\t' ',' < "$SRC/samples/labels.tsv" > "$T/m.csv"
printf 'clips/pink.wav,noise,synth:pink\nclips/person_sneeze_1-26143-A.flac,sneeze,copy:sneeze\n' >> "$T/m.csv"
# Small training settings: this tests the plumbing, not accuracy (models/README.md has that).
CAL=("$CRYMETER" calibrate --manifest "$T/m.csv" --data-root "$T/data" --folds 2 --seed 3)
SMALL=(--epochs 5 --tree-rounds 5 --tree-min-leaf 5)

# The default classifier: the ensemble, with every detector option written into the model.
expect 0 "network and boosted trees" -- "${CAL[@]}" "${SMALL[@]}" --confirm 3/4 \
    --merge-gap-cry 2 --smooth 3 --onset-threshold 0.3 --onset-max 2 --onset-gap 1 \
    --min-cry-windows 2 --min-episode 1.5 -o "$T/ens.json"
check "$T/ens.json" 'm["format_version"] == 2 and m["classifier"] == "ensemble"'
check "$T/ens.json" 'm["booster"]["n_rounds"] == 5 and len(m["trees"]) == 15 and m["network"]["n_hidden"] == 48'
check "$T/ens.json" 'm["provenance"]["classifier"] == "ensemble" and m["provenance"]["epochs"] == 5'
d='m["detector"]'
check "$T/ens.json" "$d[\"smooth_windows\"] == 3 and $d[\"confirm_k\"] == 3 and $d[\"confirm_n\"] == 4"
check "$T/ens.json" "$d[\"merge_gap_s\"][\"cry\"] == 2 and $d[\"min_episode_s\"] == 1.5 and $d[\"cry_min_windows\"] == 2"
check "$T/ens.json" "abs($d[\"cry_onset_threshold\"] - 0.3) < 1e-6 and $d[\"cry_onset_max_s\"] == 2 and $d[\"cry_onset_gap_s\"] == 1"
# Without options: calibrate's own defaults (2 windows, 2 of 2, 5 s cry merge gap).
expect 0 "" -- "${CAL[@]}" "${SMALL[@]}" -o "$T/ens2.json"
check "$T/ens2.json" "$d[\"smooth_windows\"] == 2 and $d[\"confirm_k\"] == 2 and $d[\"merge_gap_s\"][\"cry\"] == 5"

# Deterministic for a seed: the same model but for the provenance's date and timing, and
# with SOURCE_DATE_EPOCH those are fixed (the date) and left out (the timing): same bytes.
expect 0 "" -- env SOURCE_DATE_EPOCH=86400 "${CAL[@]}" "${SMALL[@]}" -o "$T/ens3.json"
expect 0 "" -- env SOURCE_DATE_EPOCH=86400 "${CAL[@]}" "${SMALL[@]}" -o "$T/ens4.json"
cmp -s "$T/ens3.json" "$T/ens4.json" && ok || bad "SOURCE_DATE_EPOCH: two runs wrote different bytes"
check "$T/ens3.json" 'm["provenance"]["date"] == "1970-01-02T00:00:00Z" and "training_seconds" not in m["provenance"]'
check "$T/ens2.json" '"training_seconds" in m["provenance"]'
expect_stderr 2 "SOURCE_DATE_EPOCH=yesterday: expected whole seconds" -- env SOURCE_DATE_EPOCH=yesterday "${CAL[@]}" -o "$T/x.json"
python3 - "$T/ens2.json" "$T/ens3.json" <<'EOF' && ok || bad "ensemble training not deterministic"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for m in (a, b):
    for k in ("date", "training_seconds"):
        m["provenance"].pop(k, None)
sys.exit(0 if a == b else 1)
EOF

# Either classifier alone: a network is format_version 1 without "classifier"; trees are 2.
expect 0 "wrote .*\(network," -- "${CAL[@]}" --epochs 5 --model-type mlp -o "$T/mlp.json"
check "$T/mlp.json" 'm["format_version"] == 1 and "classifier" not in m and "booster" not in m'
expect 0 "boosted trees" -- "${CAL[@]}" --tree-rounds 5 --tree-min-leaf 5 --model-type trees -o "$T/trees.json"
check "$T/trees.json" 'm["classifier"] == "trees" and "network" not in m'

# The ensemble model drives analyze and evaluate.
expect 0 '"type":"summary"' -- "$CRYMETER" analyze --model "$T/ens.json" -f jsonl --no-progress \
    "$T/data/clips/baby_cry_1-187207-A.flac"
expect 0 "ROC AUC [01]\.[0-9]+" -- "$CRYMETER" evaluate --model "$T/ens.json" \
    --manifest "$T/m.csv" --data-root "$T/data" --merge-gap-cry 1
expect 0 "ROC AUC [01]\.[0-9]+" -- "$CRYMETER" evaluate --manifest "$T/m.csv" \
    --data-root "$T/data" --cv 2 "${SMALL[@]}" --confirm 1/1 --smooth 1

# Mixtures: every cry clip of a fold is placed in each of the three SNR bands' mixtures (the
# bed loops to hold them), items 2-6 s further apart than the cry merge gap (here 1 s), so
# each labelled cry is one bout.
mkdir -p "$T/mix"
expect 0 "-6..20 dB SNR in three bands of one mixture each; 12 cry events" -- "$CRYMETER" evaluate --manifest "$T/m.csv" \
    --data-root "$T/data" --cv 2 "${SMALL[@]}" --merge-gap-cry 1 --mix --mix-out "$T/mix"
python3 - "$T/mix" <<'EOF' && ok || bad "mixture labels: cries missing or items closer than gap + 2 s"
import glob, sys
n = 0
for p in sorted(glob.glob(sys.argv[1] + "/mix_fold*_band*.txt")):
    ev = [l.split("\t") for l in open(p) if l.strip()]
    n += sum(e[2].startswith("cry") for e in ev)
    for a, b in zip(ev, ev[1:]):
        if float(b[0]) - float(a[1]) < 3.0 - 1e-3:
            sys.exit(1)
sys.exit(0 if n == 12 else 1)
EOF

# Refused, with the option named (exit 2: usage).
expect 2 "expected mlp, trees or ensemble" -- "${CAL[@]}" --model-type forest -o "$T/x.json"
expect 2 "need --model-type trees or ensemble" -- "${CAL[@]}" --model-type mlp --tree-depth 2 -o "$T/x.json"
expect 2 "network settings" -- "${CAL[@]}" --model-type trees --hidden 8 -o "$T/x.json"
expect 2 "--confirm '3/2': expected K/N" -- "${CAL[@]}" --confirm 3/2 -o "$T/x.json"
expect 2 "--onset-max=7" -- "$CRYMETER" evaluate --manifest "$T/m.csv" --onset-max 7
expect 2 "--smooth needs a value" -- "$CRYMETER" evaluate --manifest "$T/m.csv" --smooth
[ ! -e "$T/x.json" ] && ok || bad "a refused calibrate wrote $T/x.json"

finish
