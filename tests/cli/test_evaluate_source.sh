#!/usr/bin/env bash
# crymeter evaluate --cv source (leave one source out, issue 13): each clip scored by the
# model of the fold that left its source out, a source holding too much of the crying kept
# in training (and named) with its groups dealt over the folds, the per-source and per-label
# tables, and the usage errors (no source column, --mix, a bad --cv value).
set -u
CRYMETER=${CRYMETER:?}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/data/clips"
cp "$SRC"/samples/clips/* "$T/data/clips/"
cp "$T/data/clips/person_sneeze_1-26143-A.flac" "$T/data/clips/sneeze2.flac"
sox -n -r 16000 -c 1 "$T/data/clips/pink.wav" synth 3 pinknoise vol 0.3
# Source A holds all four cries (and a dog); B and C none.
cat > "$T/m.csv" <<'EOF'
path,label,group,source
clips/baby_cry_1-187207-A.flac,cry,fs:187207,A
clips/baby_cry_1-211527-A.flac,cry,fs:211527,A
clips/baby_cry_1-22694-A.flac,cry,fs:22694,A
clips/baby_cry_2-107351-A.flac,cry,fs:107351,A
clips/dog_bark_1-100032-A.flac,background,fs:100032,A
clips/person_sneeze_1-26143-A.flac,vocal,fs:26143,B
clips/speech_3_jackson_0.flac,vocal,fsdd:jackson,B
clips/rain_1-17367-A.flac,background,fs:17367,B
clips/pink.wav,noise,synth:pink,B
clips/speech_5703-47212-0000.flac,vocal,ls:5703,C
clips/clock_tick_1-21934-A.flac,background,fs:21934,C
clips/sneeze2.flac,sneeze,copy:sneeze,C
EOF
SMALL=(--epochs 5 --tree-rounds 5 --tree-min-leaf 5)
EV=("$CRYMETER" evaluate --manifest "$T/m.csv" --data-root "$T/data" --seed 2 "${SMALL[@]}")

# check_folds STDERR DUMP MANIFEST: every clip of a left-out source has the fold whose model
# left that source out ("fold F/K (S left out) trained"), so that model never saw the source;
# a kept source's clips use more than one fold, and no group is split across folds.
check_folds() {
    python3 - "$@" <<'EOF'
import csv, re, sys, os
err, dump, man = sys.argv[1:4]
left = {m.group(2): int(m.group(1)) - 1
        for m in re.finditer(r"fold (\d+)/\d+ \((\S+) left out\) trained", open(err).read())}
rows = {os.path.basename(r["path"]): r for r in csv.DictReader(open(man))}
kept_folds, gfold = {}, {}
for line in open(dump):
    f = line.rstrip("\n").split("\t")
    fold, r = int(f[1]), rows[os.path.basename(f[6])]
    if r["source"] in left:
        assert fold == left[r["source"]], (r, fold, left)
    else:
        kept_folds.setdefault(r["source"], set()).add(fold)
    assert gfold.setdefault(r["group"], fold) == fold, r
for s, fs in kept_folds.items():
    assert len(fs) > 1, (s, fs)
print(sorted(left), sorted(kept_folds))
EOF
}

expect 0 "kept in training: A \(4 of the 4 cry clips" -- env CM_EVAL_CLIPS="$T/clips.tsv" \
    "${EV[@]}" --cv source
cp "$T/out" "$T/out1"
grep -q "3 sources, 2 left out" "$T/out1" && ok || bad "plan line: $(head -3 "$T/out1")"
check_folds "$T/err" "$T/clips.tsv" "$T/m.csv" > "$T/cf" && ok || bad "fold assignment: $(cat "$T/cf")"
grep -q "^\['B', 'C'\] \['A'\]" "$T/cf" && ok || bad "left out / kept: $(cat "$T/cf")"
# The per-source table: scored how, clips, cry clips, non-cry clips.
grep -Eq '^  A +group +5 +4 +[01]\.[0-9]{3} +1 ' "$T/out1" && ok || bad "row A: $(cat "$T/out1")"
grep -Eq '^  B +unseen +4 +0 +- +4 ' "$T/out1" && ok || bad "row B: $(cat "$T/out1")"
grep -Eq '^  C +unseen +3 +0 +- +3 ' "$T/out1" && ok || bad "row C: $(cat "$T/out1")"
grep -Eq '^  cry +cry +4 ' "$T/out1" && ok || bad "label row cry"
grep -Eq '^  sneeze +vocal +1 ' "$T/out1" && ok || bad "label row sneeze"
grep -Eq "unseen-source clips only \(kept sources left aside, 7 clips\)" "$T/out1" && ok ||
    bad "unseen-only line"
grep -Eq "False alarms: [0-9]+ cry episodes" "$T/out1" && ok || bad "false alarm line"

# Crying in two sources, each keeping half of it without the other: every source left out.
sed -e 's/^\(clips\/baby_cry_1-22694-A.flac,.*\),A$/\1,C/' \
    -e 's/^\(clips\/baby_cry_2-107351-A.flac,.*\),A$/\1,C/' "$T/m.csv" > "$T/m2.csv"
expect 0 "3 sources, 3 left out" -- env CM_EVAL_CLIPS="$T/clips2.tsv" "${EV[@]}" \
    --manifest "$T/m2.csv" --cv source
grep -q "kept in training" "$T/out" && bad "a source was kept: $(cat "$T/out")" || ok
check_folds "$T/err" "$T/clips2.tsv" "$T/m2.csv" > "$T/cf" && ok || bad "fold assignment 2: $(cat "$T/cf")"
grep -q "^\['A', 'B', 'C'\] \[\]" "$T/cf" && ok || bad "left out 2: $(cat "$T/cf")"

# Deterministic for a seed.
expect 0 "" -- "${EV[@]}" --cv source
cmp -s "$T/out" "$T/out1" && ok || bad "--cv source output differs between two runs"

# Usage errors (exit 2), naming the option.
tr '\t' ',' < "$SRC/samples/labels.tsv" > "$T/nosrc.csv"
expect_stderr 2 "--cv source: .*no source .*'source' column" -- "$CRYMETER" evaluate \
    --manifest "$T/nosrc.csv" --data-root "$SRC/samples" --cv source
expect_stderr 2 "--gate-out needs --cv" -- "${EV[@]}" --gate-out "$T/g.tsv"
expect_stderr 2 "--train-only needs --cv" -- "${EV[@]}" --train-only "$T/m.csv"
[ ! -e "$T/g.tsv" ] && ok || bad "a refused evaluate wrote --gate-out"

# Mixtures under --cv source, one per SNR band, and the gate figures (issue 20). Fold B and C
# each have background clips of their own to mix onto; A (kept) is dealt over both folds.
# sneeze2 stands in for infant laughter: the laughter stream is its clip.
sed 's/^\(clips\/sneeze2.flac\),sneeze,/\1,laugh_infant,/' "$T/m2.csv" > "$T/m4.csv"
expect 0 "Mixtures .*-6..20 dB SNR in three bands" -- "${EV[@]}" --manifest "$T/m4.csv" \
    --cv source --mix --gate-out "$T/g.tsv"
grep -Eq '^Laughter stream \(laughter and babble clips back to back, 0\.[0-9] min\)' "$T/out" &&
    ok || bad "laughter stream line: $(cat "$T/out")"
grep -Eq '^    -6..0 dB +event P' "$T/out" && ok || bad "band line: $(cat "$T/out")"
python3 - "$T/g.tsv" <<'EOF2' && ok || bad "gate file: $(cat "$T/g.tsv")"
import sys
rows = {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(sys.argv[1])}
need = ["clip_f1", "false_cry_episodes_per_h", "mix_event_f1_le0db", "mix_event_f1_0to10db",
        "mix_event_f1_gt10db", "mix_event_f1", "laughter_stream_cry_time_share",
        "flagged_laughter"]
assert rows["flagged_laughter"][2] == "1", rows["flagged_laughter"]
assert all(k in rows for k in need), rows
# 4 cry clips in each of the three bands' mixtures: 12 cry events in all.
assert rows["mix_event_f1"][2] == "12", rows["mix_event_f1"]
assert rows["false_cry_episodes_per_h"][1] == "lower" and rows["clip_f1"][1] == "higher"
for k, (v, better, n) in rows.items():
    assert 0 <= float(v) and (k.endswith("per_h") or float(v) <= 1), (k, v)
EOF2

cp "$T/g.tsv" "$T/g1.tsv"
expect_stderr 2 "g.tsv exists \(use --force" -- "${EV[@]}" --cv source --gate-out "$T/g.tsv"
cmp -s "$T/g.tsv" "$T/g1.tsv" && ok || bad "a refused --gate-out changed the file"

# --train-only: a manifest of every clip trains the same models (the same output); one
# without source C's clips trains on 9 of the 12 and scores C all the same.
expect 0 "" -- "${EV[@]}" --cv source --train-only "$T/m.csv"
cmp -s "$T/out" "$T/out1" && ok || bad "--train-only with every clip changed the output"
grep -q "12 of the 12 clips may be trained on" "$T/err" && ok || bad "train-only count: $(cat "$T/err")"
grep -v ',C$' "$T/m.csv" > "$T/noC.csv"
expect 0 "" -- "${EV[@]}" --cv source --train-only "$T/noC.csv"
grep -q "9 of the 12 clips may be trained on" "$T/err" && ok || bad "train-only count: $(cat "$T/err")"
grep -Eq '^  C +unseen +3 +0 +- +3 ' "$T/out" && ok || bad "row C with --train-only: $(cat "$T/out")"
cp "$T/data/clips/sneeze2.flac" "$T/data/clips/extra.flac"
printf 'path,label\nclips/extra.flac,sneeze\n' > "$T/none.csv"
expect_stderr 1 "--train-only .*none.csv: none of its clips is in the manifest" -- "${EV[@]}" \
    --cv source --train-only "$T/none.csv"
expect_stderr 2 "--cv=sauce: .*'source'" -- "${EV[@]}" --cv sauce
expect_stderr 2 "--cv=1: " -- "${EV[@]}" --cv 1
# Only one source can be left out (A holds all the crying, B is the only other).
grep -v ',C$' "$T/m.csv" > "$T/m3.csv"
expect_stderr 2 "--cv source: 1 of 2 sources can be left out" -- "${EV[@]}" \
    --manifest "$T/m3.csv" --cv source

finish
