#!/usr/bin/python3
"""Trains crymeter's frame network: a recurrent classifier over the front end's 10 ms frames.

Issue 13, part 3. The window classifier sees 56 features pooled over 1 s and cannot tell a
cat's meow or a laughing baby from a cry; this network sees the frame sequence itself
(spectral shape, level, pitch and voicing per 10 ms) through a GRU, as rnnoise does in C.
It costs about 7.7 k multiply-adds per frame (0.77 M per audio second), computed once per
frame, so it fits the bench goals that a 1 s CNN patch every 0.25 s (16.5 M MACs each,
../shared/research/spectro-temporal-probe.md) does not.

Runs with Debian's python3-torch (1.13) and numpy; the runtime stays C (src/detect/framenet.c
computes exactly the same arithmetic, in float32; tests/unit/test_framenet.c holds the two
together).

Input: `crymeter frames --manifest M --data-root R -o PREFIX` (PREFIX.f32 + PREFIX.csv).

  frame_net.py train --frames PREFIX [--folds FOLDS.csv --fold F] -o NET.json
  frame_net.py oof   --frames PREFIX --folds FOLDS.csv -o DIR     (one net per fold)

The NET.json is the model file's "frame_net" object (models/README.md, "Format", `frame_net`).
Everything is seeded: the same inputs and --seed give the same weights on the same machine
(torch on one thread).
"""
import argparse
import csv
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)

N_MEL = 40
D_RAW = N_MEL + 7           # crymeter frames: mel[40], centroid kHz, flatness, rolloff kHz,
I_CENT, I_FLAT, I_ROLL, I_FLUX, I_RMS, I_F0, I_VOIC = range(N_MEL, D_RAW)  # flux, rms, f0, voicing
N_IN = N_MEL + 9            # frame inputs, see inputs()
CLASSES = ["background", "vocal", "cry"]
CROP = 300                  # training sequence length, frames (3 s)
WARMUP = 20                 # frames of a crop before its loss counts (state settling)
ACTIVE_DB = 30.0            # frames more than this below the clip's loudest are not labelled
SILENCE_DBFS = -70.0        # nor frames below this


def inputs(raw):
    """Frame inputs from raw frames [T, D_RAW] of one stream: level-free spectral shape, level,
    level change, shape descriptors, pitch. Must match framenet.c's cm_fn_inputs exactly."""
    raw = raw.astype(np.float32)
    mel = raw[:, :N_MEL]
    mx = mel.max(axis=1, keepdims=True)
    x = np.empty((raw.shape[0], N_IN), np.float32)
    x[:, :N_MEL] = np.clip(mel - mx, -60.0, 0.0) / np.float32(20.0)
    rms = np.clip(raw[:, I_RMS], -100.0, 0.0)
    x[:, N_MEL] = (rms + np.float32(50.0)) / np.float32(20.0)
    prev = np.concatenate([rms[:1], rms[:-1]])
    x[:, N_MEL + 1] = np.clip(rms - prev, -20.0, 20.0) / np.float32(10.0)
    x[:, N_MEL + 2] = raw[:, I_CENT]
    x[:, N_MEL + 3] = raw[:, I_FLAT]
    x[:, N_MEL + 4] = raw[:, I_ROLL]
    x[:, N_MEL + 5] = np.clip(raw[:, I_FLUX], 0.0, 30.0) / np.float32(10.0)
    f0 = raw[:, I_F0]
    voiced = f0 > 0
    x[:, N_MEL + 6] = voiced.astype(np.float32)
    x[:, N_MEL + 7] = np.where(voiced, np.log2(np.maximum(f0, 1.0) / np.float32(400.0)), 0.0)
    x[:, N_MEL + 8] = raw[:, I_VOIC]
    return x


class Net(nn.Module):
    def __init__(self, n_dense=32, n_hidden=32):
        super().__init__()
        self.inp = nn.Linear(N_IN, n_dense)
        self.gru = nn.GRU(n_dense, n_hidden, batch_first=True)
        self.out = nn.Linear(n_hidden, len(CLASSES))

    def forward(self, x, h=None):
        y, h = self.gru(torch.tanh(self.inp(x)), h)
        return self.out(y), h


def load(prefix):
    rows = []
    with open(prefix + ".csv", newline="") as f:
        r = csv.reader(f)
        hdr = next(r)
        d = int(hdr[-1].split("D=")[1])
        if d != D_RAW:
            sys.exit(f"{prefix}.csv: D={d}, expected {D_RAW} (40 mel bands)")
        for row in r:
            rows.append(dict(index=int(row[0]), path=row[1], label=row[2], cls=CLASSES.index(row[3]),
                             group=row[4], source=row[5], offset=int(row[6]), n=int(row[7])))
    raw = np.memmap(prefix + ".f32", dtype="<f4", mode="r").reshape(-1, D_RAW)
    return rows, raw


def load_folds(path, rows):
    """path,fold,source,label as evaluate/calibrate --folds-out write it. Every clip of the
    frames must be in it (same manifest, same --data-root)."""
    by = {}
    with open(path, newline="") as f:
        for rec in csv.DictReader(f):
            by[rec["path"]] = int(rec["fold"])
    missing = [c["path"] for c in rows if c["path"] not in by]
    if missing:
        sys.exit(f"{path}: {len(missing)} clips of the frames are not in it, e.g. {missing[0]} "
                 "(run crymeter frames and the --folds-out run on the same manifest and --data-root)")
    return np.array([by[c["path"]] for c in rows])


def add_aug(rows, raw, folds, prefix, manifest):
    """Appends the augmented copies (crymeter frames of models/train/augment.py's output) to
    rows/raw, each with the fold of its original's group (groups are never split) and the
    fold of its noise bed (the bed clip's own fold, from the chain's bed=PATH): a fold's
    network trains on a copy only when neither the clip nor its bed is scored in that fold
    (the bed would leak held-out sound otherwise). With source folds that is the bed's
    source's fold; with group-wise folds its group's, so beds from the other folds' groups
    of the same source still count. A bed outside the folds file (an older manifest with
    only bed_source) falls back to every fold of that source."""
    arows, araw = load(prefix)
    bed = {}
    with open(manifest, newline="") as f:
        for rec in csv.DictReader(f):
            m = re.search(r"(?:^|;)bed=([^@;]+)@", rec.get("chain", ""))
            bed[os.path.basename(rec["path"])] = (rec.get("bed_source", ""), m.group(1) if m else "")
    gfold, sfold, pfold = {}, {}, {}
    for c, fo in zip(rows, folds):
        gfold[c["group"]] = fo
        pfold.setdefault(os.path.basename(c["path"]), []).append((c["path"], fo))
        sfold.setdefault(c["source"], set()).add(fo)
    base = len(raw)
    out_rows, afold, abed = [], [], []
    for c in arows:
        if c["group"] not in gfold:
            continue
        c = dict(c, offset=c["offset"] + base, aug=True)
        out_rows.append(c)
        afold.append(gfold[c["group"]])
        bsrc, bpath = bed.get(os.path.basename(c["path"]), ("", ""))
        # The frames' paths carry the data root ("R/audio/..."), the chain's do not.
        hit = [fo for p, fo in pfold.get(os.path.basename(bpath), [])
               if p == bpath or p.endswith("/" + bpath)] if bpath else []
        if hit:
            abed.append({hit[0]})
        else:
            abed.append(sfold.get(bsrc, set()) if bsrc else set())
    raw_all = np.concatenate([np.asarray(raw), np.asarray(araw)])
    return rows + out_rows, raw_all, np.concatenate([folds, np.array(afold, dtype=folds.dtype)]), \
        [set()] * len(rows) + abed


def clip_arrays(rows, raw, idx):
    out = []
    for i in idx:
        c = rows[i]
        fr = np.asarray(raw[c["offset"]:c["offset"] + c["n"]])
        out.append((inputs(fr), np.clip(fr[:, I_RMS], -120, 0)))
    return out


def weights(rows, idx):
    """Per-clip loss weights: classes balanced; within a class each group weighs sqrt(its
    frames) in total (the 500-clip digit speakers must not drown the rest), as the C
    trainer does for windows."""
    gfr = {}
    for i in idx:
        c = rows[i]
        gfr[(c["cls"], c["group"])] = gfr.get((c["cls"], c["group"]), 0) + c["n"]
    cls_tot = [0.0] * 3
    for (k, g), n in gfr.items():
        cls_tot[k] += math.sqrt(n)
    w = {}
    for i in idx:
        c = rows[i]
        n = gfr[(c["cls"], c["group"])]
        # this clip's share of its group's sqrt weight, per frame, then class balance
        w[i] = (math.sqrt(n) / n) / cls_tot[c["cls"]] / 3.0
    return w


def make_crops(arrs, idx, rows, w, rng):
    xs, ys, ms = [], [], []
    for a, i in zip(arrs, idx):
        x, rms = a
        T = len(x)
        peak = rms.max() if T else -120
        active = (rms >= peak - ACTIVE_DB) & (rms >= SILENCE_DBFS)
        # back-to-back crops from a random offset: every frame is seen once per epoch,
        # at a different place in its crop each time
        off = int(rng.integers(0, min(CROP, T - CROP) + 1)) if T > CROP else 0
        starts = list(range(off, T - CROP + 1, CROP)) if T > CROP else [0]
        if T > CROP and off > 0:
            starts.insert(0, 0)
        for s in starts:
            e = min(s + CROP, T)
            L = e - s
            xx = np.zeros((CROP, N_IN), np.float32)
            xx[:L] = x[s:e]
            m = np.zeros(CROP, np.float32)
            m[:L] = active[s:e] * w[i] * 1e6
            m[:min(WARMUP, L // 4)] = 0
            xs.append(xx)
            ys.append(rows[i]["cls"])
            ms.append(m)
    return np.stack(xs), np.array(ys, np.int64), np.stack(ms)


BATCH = 64                  # crops per step


def train(rows, raw, idx, seed=1, epochs=12, n_dense=32, n_hidden=32, log=True):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    arrs = clip_arrays(rows, raw, idx)
    # standardisation from the training frames (active or not: the net sees every frame)
    allx = np.concatenate([a[0] for a in arrs])
    mean = allx.mean(0)
    std = allx.std(0) + 1e-3
    arrs = [((a[0] - mean) / std, a[1]) for a in arrs]
    w = weights(rows, idx)
    net = Net(n_dense, n_hidden)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for ep in range(epochs):
        t0 = time.time()
        X, Y, M = make_crops(arrs, idx, rows, w, rng)
        perm = rng.permutation(len(X))
        tot, n = 0.0, 0
        for b in range(0, len(perm), BATCH):
            j = perm[b:b + BATCH]
            x = torch.from_numpy(X[j])
            y = torch.from_numpy(Y[j])
            m = torch.from_numpy(M[j])
            lg, _ = net(x)
            ce = nn.functional.cross_entropy(lg.reshape(-1, 3), y.repeat_interleave(CROP),
                                             reduction="none").reshape(len(j), CROP)
            loss = (ce * m).sum() / m.sum().clamp_min(1e-6)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            tot += loss.item() * len(j)
            n += len(j)
        sched.step()
        if log:
            print(f"  epoch {ep + 1}/{epochs}: loss {tot / n:.4f}, {len(X)} crops, "
                  f"{time.time() - t0:.1f} s", file=sys.stderr)
    return net, mean, std


def frame_probs(net, mean, std, x_raw_inputs):
    with torch.no_grad():
        x = torch.from_numpy(((x_raw_inputs - mean) / std)[None].astype(np.float32))
        lg, _ = net(x)
        return torch.softmax(lg[0], -1).numpy()


def export(net, mean, std, path, provenance):
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    H = net.gru.hidden_size
    def L(a):
        return [float(v) for v in np.asarray(a, np.float32).ravel()]
    obj = {
        "type": "gru",
        "inputs": "crymeter-frame-inputs-1",
        "n_in": N_IN, "n_dense": net.inp.out_features, "n_hidden": H,
        "mean": L(mean), "std": L(std),
        "w_in": L(sd["inp.weight"]), "b_in": L(sd["inp.bias"]),
        # PyTorch's gate order r, z, n; rows of 3H
        "w_ih": L(sd["gru.weight_ih_l0"]), "w_hh": L(sd["gru.weight_hh_l0"]),
        "b_ih": L(sd["gru.bias_ih_l0"]), "b_hh": L(sd["gru.bias_hh_l0"]),
        "w_out": L(sd["out.weight"]), "b_out": L(sd["out.bias"]),
        "provenance": provenance,
    }
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def fixture(path, seed):
    """A small random network, raw frames and the per-frame probabilities torch gives, for
    tests/unit/test_framenet.c: C must reproduce them to float rounding."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = Net(8, 6)
    with torch.no_grad():
        for prm in net.parameters():
            prm.mul_(3.0)  # larger weights than the init: gates away from 0.5
    T = 60
    raw = np.zeros((T, D_RAW), np.float32)
    raw[:, :N_MEL] = rng.uniform(-110, -10, (T, N_MEL))
    raw[:, I_CENT] = rng.uniform(0.2, 3.0, T)
    raw[:, I_FLAT] = rng.uniform(0, 1, T)
    raw[:, I_ROLL] = rng.uniform(0.5, 3.5, T)
    raw[:, I_FLUX] = rng.uniform(0, 40, T)
    raw[:, I_RMS] = rng.uniform(-120, 0, T)
    raw[:, I_F0] = np.where(rng.uniform(0, 1, T) < 0.5, 0, rng.uniform(150, 1000, T))
    raw[:, I_VOIC] = rng.uniform(0, 1, T)
    x = inputs(raw)
    mean = rng.normal(0, 0.5, N_IN).astype(np.float32)
    std = rng.uniform(0.5, 2, N_IN).astype(np.float32)
    p = frame_probs(net, mean, std, x)
    export(net, mean, std, path + ".net", {"fixture": True, "seed": seed})
    with open(path + ".net") as f:
        obj = json.load(f)
    os.unlink(path + ".net")
    with open(path, "w") as f:
        json.dump({"frame_net": obj, "raw": [float(v) for v in raw.ravel()],
                   "inputs": [float(v) for v in x.ravel()],
                   "probs": [float(v) for v in p.ravel()], "n_frames": T, "d_raw": D_RAW}, f)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["train", "oof", "fixture"])
    ap.add_argument("--frames", help="PREFIX of crymeter frames output")
    ap.add_argument("--aug", action="append", default=[], metavar="PREFIX=MANIFEST",
                    help="frames of augmented copies (crymeter frames of augment.py's output) "
                         "and that output's manifest.csv; training only, a copy whose group or "
                         "noise bed's source is in the fold left out is not used for that fold")
    ap.add_argument("--folds", help="evaluate --folds-out CSV")
    ap.add_argument("--fold", type=int, default=-1, help="train without this fold")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--dense", type=int, default=32)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.cmd == "fixture":
        fixture(a.output, a.seed)
        return
    rows, raw = load(a.frames)
    folds = load_folds(a.folds, rows) if a.folds else np.full(len(rows), -1)
    K = int(folds.max()) + 1
    bedf = [set()] * len(rows)
    for spec in a.aug:
        prefix, _, man = spec.partition("=")
        rows, raw, folds, bedf = add_aug(rows, raw, folds, prefix, man)
        print(f"{prefix}: {len(rows)} clips with the augmented copies", file=sys.stderr)

    def training(f):
        return [i for i in range(len(rows)) if f < 0 or (folds[i] != f and f not in bedf[i])]

    if a.cmd == "train":
        idx = training(a.fold)
        net, mean, std = train(rows, raw, idx, a.seed, a.epochs, a.dense, a.hidden)
        export(net, mean, std, a.output, {"script": "models/train/frame_net.py", "frames": os.path.basename(a.frames),
                                          "fold": a.fold, "seed": a.seed, "epochs": a.epochs,
                                          "n_clips": len(idx)})
        return
    os.makedirs(a.output, exist_ok=True)
    for f in range(K):
        idx = training(f)
        t0 = time.time()
        net, mean, std = train(rows, raw, idx, a.seed, a.epochs, a.dense, a.hidden, log=False)
        out = os.path.join(a.output, f"fold{f:02d}.json")
        export(net, mean, std, out, {"script": "models/train/frame_net.py", "fold": f, "seed": a.seed,
                                     "epochs": a.epochs, "n_clips": len(idx)})
        print(f"fold {f + 1}/{K}: {len(idx)} training clips, {time.time() - t0:.0f} s -> {out}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
