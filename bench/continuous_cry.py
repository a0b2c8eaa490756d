#!/usr/bin/python3
"""Continuous, phone-compressed crying: how much of it does crymeter call crying?

Issue 13: a home recording of 135 s of continuous crying gave cry episodes for only 79 s and
missed a 50 s stretch; phone recorders apply automatic gain control and compression, so a
loud crying bout varies by only a few dB over seconds. This builds such a bout from the
shared data's infant cries (N clips of donateacry back to back, 0.3 s apart), once as
recorded and once through augment.py's AGC and compressor (target -20 dBFS, attack 50 ms,
release 1.5 s, ratio 6), optionally over a room-noise bed, and reports for each model the
share of the bout covered by cry episodes and the longest stretch without one.

  bench/continuous_cry.py --data ../shared/data [--clips 20] [--seed 1] MODEL.json|default ...

The audio is written to a temporary directory only (the shared clips' licences do not
allow copying them into the project).
"""
import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "train"))
import augment  # noqa: E402

RATE = 16000


def read(path):
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "f32le", "-ac", "1",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32).astype(np.float64)


def write(path, x):
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1",
                    "-i", "-", path], input=pcm, check=True)


def cover(crymeter, model, wav, dur):
    cmd = [crymeter, "analyze", "--no-progress", "-f", "jsonl"]
    if model != "default":
        cmd += ["--model", model]
    out = subprocess.run(cmd + [wav], capture_output=True, text=True, check=True).stdout
    eps = sorted((r["start_s"], r["end_s"]) for r in map(json.loads, out.splitlines())
                 if r.get("type") == "episode" and r.get("class") == "cry")
    covered = sum(e - s for s, e in eps)
    gaps, t = [], 0.0
    for s, e in eps:
        gaps.append(s - t)
        t = max(t, e)
    gaps.append(dur - t)
    return covered / dur, max(gaps), len(eps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data directory (manifest.csv)")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--crymeter", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "crymeter"))
    ap.add_argument("models", nargs="+", help="model files, or 'default' for the built-in model")
    a = ap.parse_args()
    rows = [r for r in csv.DictReader(open(os.path.join(a.data, "manifest.csv")))
            if r["source"] == "donateacry" and r["label"] == "cry_infant"]
    random.Random(a.seed).shuffle(rows)
    gap = np.zeros(int(0.3 * RATE))
    parts = []
    for r in rows[:a.clips]:
        x = read(os.path.join(a.data, r["path"]))
        parts += [x / (np.max(np.abs(x)) + 1e-9) * 0.5, gap]
    bout = np.concatenate(parts)
    dur = len(bout) / RATE
    rng = np.random.default_rng(a.seed)
    room = rng.normal(0, 1, len(bout)) * 10 ** (-50 / 20)   # a quiet room, -50 dBFS
    variants = {
        "as recorded": bout + room,
        "AGC + compression": augment.agc_compress(bout + room, target_db=-20.0, att_s=0.05,
                                                  rel_s=1.5, ratio=6.0),
    }
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{a.clips} donateacry cries back to back: {dur:.1f} s (seed {a.seed})")
        print(f"{'model':40s} {'variant':20s} {'covered':>8s} {'longest miss':>13s} {'episodes':>9s}")
        for name, x in variants.items():
            wav = os.path.join(tmp, name.replace(" ", "_").replace("+", "") + ".wav")
            write(wav, x)
            lv = 20 * np.log10(np.sqrt(np.convolve(x ** 2, np.ones(RATE) / RATE, "valid"))[::RATE // 10] + 1e-12)
            for m in a.models:
                c, g, n = cover(a.crymeter, m, wav, dur)
                print(f"{os.path.basename(m):40s} {name:20s} {c:8.3f} {g:11.1f} s {n:9d}"
                      f"   (1 s level p10..p90 {np.percentile(lv, 10):.1f}..{np.percentile(lv, 90):.1f} dBFS)")


if __name__ == "__main__":
    main()
