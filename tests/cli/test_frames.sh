#!/usr/bin/env bash
# crymeter frames (frame features for training scripts) and the evaluate options that serve
# the frame network's training (issue 13): --source-folds, --folds-out, --frame-nets.
# Checks values: row counts against clip lengths, the index against the data file's size,
# the fold file against the fold plan, and that a frame network changes the scores.
set -u
CRYMETER=${CRYMETER:?}
SRC=${CM_SOURCE_DIR:?}
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/data/clips"
cp "$SRC"/samples/clips/* "$T/data/clips/"
sox -n -r 16000 -c 1 "$T/data/clips/pink.wav" synth 3 pinknoise vol 0.3
sox -n -r 44100 -c 2 "$T/data/clips/tone.wav" synth 1.005 sine 440 vol 0.5
cat > "$T/m.csv" <<'EOF'
path,label,group,source,extra
clips/baby_cry_1-187207-A.flac,cry,fs:187207,A,x
clips/baby_cry_1-211527-A.flac,cry,fs:211527,A,x
clips/baby_cry_1-22694-A.flac,cry,fs:22694,D,x
clips/baby_cry_2-107351-A.flac,cry,fs:107351,D,x
clips/dog_bark_1-100032-A.flac,background,fs:100032,A,x
clips/person_sneeze_1-26143-A.flac,vocal,fs:26143,B,x
clips/speech_3_jackson_0.flac,vocal,fsdd:jackson,B,x
clips/rain_1-17367-A.flac,background,fs:17367,B,x
clips/pink.wav,noise,synth:pink,B,x
clips/speech_5703-47212-0000.flac,vocal,ls:5703,C,x
clips/clock_tick_1-21934-A.flac,background,fs:21934,C,x
clips/tone.wav,noise,synth:tone,C,x
EOF

expect 0 "" -- "$CRYMETER" frames --manifest "$T/m.csv" --data-root "$T/data" -o "$T/fr"
python3 - "$T/fr" "$T/m.csv" > "$T/py" 2>&1 <<'EOF' && ok || bad "frames output: $(cat "$T/py")"
import csv, os, struct, sys
pre, man = sys.argv[1:3]
lines = open(pre + ".csv").read().splitlines()
assert lines[0].endswith("# D=47"), lines[0]
rows = list(csv.reader(lines[1:]))
src = list(csv.DictReader(open(man)))
assert len(rows) == len(src) == 12, (len(rows), len(src))
size = os.path.getsize(pre + ".f32")
total = sum(int(r[7]) for r in rows)
assert size == total * 47 * 4, (size, total)
off = 0
for r, s in zip(rows, src):
    assert r[1].endswith(s["path"]) and r[2] == s["label"] and r[4] == s["group"] and r[5] == s["source"], (r, s)
    assert int(r[6]) == off, (r, off)
    off += int(r[7])
    assert r[3] == {"cry": "cry", "background": "background", "vocal": "vocal", "noise": "background"}[s["label"]]
by = {os.path.basename(r[1]): r for r in rows}
# 3 s at 16 kHz -> 24000 samples at 8 kHz -> ceil(24000 / 80) frames; 1.005 s at 44.1 kHz -> 8040 -> 101
assert int(by["pink.wav"][7]) == 300, by["pink.wav"]
assert int(by["tone.wav"][7]) == 101, by["tone.wav"]
f = open(pre + ".f32", "rb")
f.seek(int(by["tone.wav"][6]) * 47 * 4)
fr = [struct.unpack("<47f", f.read(47 * 4)) for _ in range(101)]
mid = fr[50]
# a 440 Hz sine at 0.5 (-6.02 dBFS peak, -9.03 dBFS RMS): its level, pitch and voicing
assert abs(mid[44] - (-9.03)) < 0.3, mid[44]
assert abs(mid[45] - 440) < 15, mid[45]
assert mid[46] > 0.9, mid[46]
assert max(mid[:40]) > -20 and min(mid[:40]) >= -120, mid[:40]
print("ok")
EOF
# Outputs are not overwritten without --force; a missing clip is named, exit 1.
expect_stderr 1 "fr.f32: exists; use --force" -- "$CRYMETER" frames --manifest "$T/m.csv" \
    --data-root "$T/data" -o "$T/fr"
expect 0 "" -- "$CRYMETER" frames --manifest "$T/m.csv" --data-root "$T/data" -o "$T/fr" --force
sed 's/pink.wav/gone.wav/' "$T/m.csv" > "$T/m2.csv"
expect_stderr 1 "gone.wav" -- "$CRYMETER" frames --manifest "$T/m2.csv" --data-root "$T/data" -o "$T/fr2"
expect_stderr 2 "--manifest and -o PREFIX are required" -- "$CRYMETER" frames -o "$T/x"
expect_stderr 2 "unexpected argument 'stray'" -- "$CRYMETER" frames --manifest "$T/m.csv" -o "$T/x" stray

# evaluate --cv source --source-folds 2: four sources (A and D hold two cries each, so each
# can be left out) dealt into two folds; --folds-out writes that plan.
SMALL=(--epochs 5 --tree-rounds 5 --tree-min-leaf 5)
EV=("$CRYMETER" evaluate --manifest "$T/m.csv" --data-root "$T/data" --seed 2 "${SMALL[@]}" --cv source)
expect 0 "4 sources, 4 left out in 2 folds" -- env CM_EVAL_CLIPS="$T/c0.tsv" "${EV[@]}" \
    --source-folds 2 --folds-out "$T/folds.csv"
cp "$T/out" "$T/out0"
python3 - "$T/folds.csv" "$T/out0" > "$T/py" 2>&1 <<'EOF' && ok || bad "folds: $(cat "$T/py")"
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 12
fold_of = {}
for r in rows:
    assert fold_of.setdefault(r["source"], r["fold"]) == r["fold"], r  # a source stays whole
assert sorted(set(fold_of.values())) == ["0", "1"], fold_of
# sizes 4 (B), 3 (A), 3 (C), 2 (D): largest first to the lighter fold -> B|A, then C to A's
# fold (3 < 4), then D to B's fold (4 < 6): folds of 6 clips each
sizes = {}
for r in rows: sizes[r["fold"]] = sizes.get(r["fold"], 0) + 1
assert sorted(sizes.values()) == [6, 6], sizes
assert fold_of["B"] == fold_of["D"] and fold_of["A"] == fold_of["C"] != fold_of["B"], fold_of
plan = open(sys.argv[2]).read()
assert re.search(r"fold 1: [A-D], [A-D]", plan) and re.search(r"fold 2: [A-D], [A-D]", plan), plan
print("ok")
EOF
# --frame-nets: each fold's model gets its network; the clip scores change, and a missing
# or damaged network file is named.
mkdir -p "$T/nets"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); json.dump(d['frame_net'], open(sys.argv[2],'w'))" \
    "$SRC/tests/data/framenet_ref.json" "$T/nets/fold00.json"
expect_stderr 1 "nets/fold01.json" -- "${EV[@]}" --source-folds 2 --frame-nets "$T/nets"
cp "$T/nets/fold00.json" "$T/nets/fold01.json"
expect 0 "" -- env CM_EVAL_CLIPS="$T/c1.tsv" "${EV[@]}" --source-folds 2 --frame-nets "$T/nets"
cmp -s "$T/c0.tsv" "$T/c1.tsv" && bad "--frame-nets changed no clip score" || ok
head -c 200 "$T/nets/fold00.json" > "$T/nets/fold01.json"
expect_stderr 1 "fold01.json: frame_net: invalid or truncated JSON" -- "${EV[@]}" --source-folds 2 \
    --frame-nets "$T/nets"
expect_stderr 2 "--source-folds needs --cv source" -- "$CRYMETER" evaluate --manifest "$T/m.csv" \
    --data-root "$T/data" --source-folds 2
expect_stderr 2 "--frame-nets needs --cv" -- "$CRYMETER" evaluate --manifest "$T/m.csv" \
    --data-root "$T/data" --frame-nets "$T/nets"

# calibrate: per-fold networks for the thresholds, the final one into the model; the model
# then carries it (analyze uses it), and one of the pair alone is a usage error.
cp "$T/data/clips/person_sneeze_1-26143-A.flac" "$T/data/clips/sneeze2.flac"
{ cat "$T/m.csv"; echo "clips/sneeze2.flac,sneeze,copy:sneeze,C,x"; } > "$T/m4.csv"
CAL=("$CRYMETER" calibrate --manifest "$T/m4.csv" --data-root "$T/data" --folds 2 "${SMALL[@]}")
expect 0 "" -- "${CAL[@]}" -o "$T/plain.json" --folds-out "$T/cfolds.csv"
[ "$(tail -n +2 "$T/cfolds.csv" | cut -d, -f2 | sort -u | tr '\n' ' ')" = "0 1 " ] && ok ||
    bad "calibrate --folds-out: $(cat "$T/cfolds.csv")"
cp "$T/nets/fold00.json" "$T/nets/fold01.json"
expect 0 "" -- "${CAL[@]}" -o "$T/fn.json" --frame-nets "$T/nets" --frame-net "$T/nets/fold00.json"
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert m['frame_net']['n_hidden']==6" \
    "$T/fn.json" && ok || bad "calibrated model lacks its frame_net"
grep -q frame_net "$T/plain.json" && bad "plain model has a frame_net" || ok
expect 0 "" -- "${CAL[@]}" -o "$T/fn8.json" --frame-nets "$T/nets" --frame-net "$T/nets/fold00.json" \
    --frame-net-weight 0.8
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert abs(m['frame_net']['weight']-0.8)<1e-6, m['frame_net']['weight']" \
    "$T/fn8.json" && ok || bad "--frame-net-weight 0.8 not in the model"
expect_stderr 2 "frame-net-weight" -- "${CAL[@]}" -o "$T/x.json" --frame-nets "$T/nets" \
    --frame-net "$T/nets/fold00.json" --frame-net-weight 1.5
expect 0 "" -- "$CRYMETER" analyze --no-progress --model "$T/fn.json" -f jsonl -o "$T/a.jsonl" \
    "$T/data/clips/baby_cry_1-187207-A.flac"
grep -q '"type":"summary"' "$T/a.jsonl" && ok || bad "analyze with a frame network: $(cat "$T/a.jsonl")"
# The shipped frame-network model loads and finds the demo's two labelled cries.
expect 0 "" -- "$CRYMETER" analyze --no-progress -f jsonl --model "$SRC/models/framenet.json" \
    -o "$T/fnd.jsonl" "$SRC/samples/demo.flac"
python3 - "$T/fnd.jsonl" <<'PY' && ok || bad "models/framenet.json on the demo: $(cat "$T/fnd.jsonl")"
import json, sys
c = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "episode" and r["class"] == "cry"]
assert c and c[0]["start_s"] < 6 and c[-1]["start_s"] > 46, c
PY
expect_stderr 2 "--frame-nets DIR .* and --frame-net FILE .* together" -- "${CAL[@]}" -o "$T/x.json" \
    --frame-net "$T/nets/fold00.json"

finish
