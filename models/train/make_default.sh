#!/usr/bin/env bash
# Rebuilds models/default.json from the shared data, every step seeded (issue 13):
#   1. the frame features of every clip (crymeter frames);
#   2. the group-wise folds calibrate will use (a first calibrate run, --folds-out);
#   3. one frame network per fold (frame_net.py oof) and one on all clips (frame_net.py train),
#      PyTorch on one thread: the same inputs and seed give the same weights on this machine;
#   4. calibrate again: the window classifier (network + boosted trees) as before, each fold's
#      model with its fold's frame network for the out-of-fold scores the thresholds are chosen
#      on, and the final model with the network trained on all clips.
# About 45 min on 2 cores. Needs build/crymeter and Debian's python3-torch.
#   bash models/train/make_default.sh [DATA_DIR]      (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
W=${WORK:-build/train}
PY=/usr/bin/python3      # Debian's, with python3-torch and numpy
CM=./build/crymeter
mkdir -p "$W"
# The shared manifest minus its one 5 kHz clip (the reader takes 8-192 kHz).
grep -v space__apollo_lander.flac "$DATA/manifest.csv" > "$W/manifest.csv"
$CM frames --manifest "$W/manifest.csv" --data-root "$DATA" -o "$W/frames" --force
$CM calibrate --manifest "$W/manifest.csv" --data-root "$DATA" --seed 1 --folds-out "$W/folds.csv" \
    -o "$W/pass1.json" --force
$PY models/train/frame_net.py oof --frames "$W/frames" --folds "$W/folds.csv" --epochs 6 --seed 1 \
    -o "$W/nets"
$PY models/train/frame_net.py train --frames "$W/frames" --epochs 6 --seed 1 -o "$W/net.json"
$CM calibrate --manifest "$W/manifest.csv" --data-root "$DATA" --seed 1 --frame-nets "$W/nets" \
    --frame-net "$W/net.json" --frame-net-weight 0.3 -o models/default.json --force
