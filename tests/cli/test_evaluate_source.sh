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
expect_stderr 2 "--mix is not supported with --cv source" -- "${EV[@]}" --cv source --mix
expect_stderr 2 "--cv=sauce: .*'source'" -- "${EV[@]}" --cv sauce
expect_stderr 2 "--cv=1: " -- "${EV[@]}" --cv 1
# Only one source can be left out (A holds all the crying, B is the only other).
grep -v ',C$' "$T/m.csv" > "$T/m3.csv"
expect_stderr 2 "--cv source: 1 of 2 sources can be left out" -- "${EV[@]}" \
    --manifest "$T/m3.csv" --cv source

finish
