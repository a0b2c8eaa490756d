#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per source and label figures from evaluate's out-of-fold clip scores.

    CM_EVAL_CLIPS=clips.tsv ./build/crymeter evaluate --manifest M --data-root R --cv ...
    python3 models/train/oof_report.py M clips.tsv [--labels cry_infant,cry_adult,cat]

For each (source, label) of the chosen labels: how many clips reach their fold's cry
threshold (recall for cry labels, share flagged for the rest), and the median and highest
clip score beside the fold thresholds. Then clip cry F1 at the
fold thresholds evaluate chose, and at one global threshold for each of 0.50, 0.55, ...
0.95 and 0.97, with the best of them: does a different threshold close the gap, or is it
the ranking? (models/README.md's "Group-wise and unseen-source figures of the window
classifier" were made with it.) Standard library only."""
import argparse
import csv
import os
import sys

CRY = {"cry_infant", "cry_adult"}


def f1(rows, thr_of):
    tp = fp = fn = 0
    for r in rows:
        d, y = r["score"] >= thr_of(r), r["label"] in CRY
        tp += d and y
        fp += d and not y
        fn += y and not d
    return 2 * tp / max(1, 2 * tp + fp + fn)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("clips", help="the CM_EVAL_CLIPS file: label, fold, rate, score, "
                    "second score, fold threshold, path (tab-separated)")
    ap.add_argument("--labels", default="cry_infant,cry_adult,cat,home_noncry")
    a = ap.parse_args()
    by_name = {}
    with open(a.manifest, newline="") as f:
        for rec in csv.DictReader(f):
            by_name.setdefault(os.path.basename(rec["path"]), []).append(rec)
    rows = []
    with open(a.clips) as f:
        for n, line in enumerate(f, 1):
            c = line.rstrip("\n").split("\t")
            if len(c) != 7:
                sys.exit(f"{a.clips}:{n}: {len(c)} fields, expected 7")
            path = c[6]
            # evaluate writes the path under --data-root; the manifest's is relative to it.
            src = [r["source"] for r in by_name.get(os.path.basename(path), [])
                   if path == r["path"] or path.endswith("/" + r["path"])]
            if not src:
                sys.exit(f"{a.clips}:{n}: {path} is not in {a.manifest}")
            rows.append(dict(label=c[0], score=float(c[3]), thr=float(c[5]), source=src[0]))
    want = a.labels.split(",")
    cells = {}
    for r in rows:
        if r["label"] in want:
            cells.setdefault((r["source"], r["label"]), []).append(r)
    print("source\tlabel\tat or over the fold threshold\tclips\tshare\tmedian score\t"
          "highest\tfold thresholds")
    for (s, l), rs in sorted(cells.items()):
        hit = sum(r["score"] >= r["thr"] for r in rs)
        sc = sorted(r["score"] for r in rs)
        thr = "/".join(f"{t:.3f}" for t in sorted({r["thr"] for r in rs}))
        print(f"{s}\t{l}\t{hit}\t{len(rs)}\t{hit / len(rs):.3f}\t{sc[(len(sc) - 1) // 2]:.3f}\t"
              f"{sc[-1]:.3f}\t{thr}")
    print(f"clip cry F1 at the fold thresholds: {f1(rows, lambda r: r['thr']):.3f}")
    grid = [round(0.50 + 0.05 * i, 2) for i in range(10)] + [0.97]
    res = [(f1(rows, lambda r, t=t: t), t) for t in grid]
    print("one global threshold: " + ", ".join(f"{t:.2f} {v:.3f}" for v, t in res))
    best = max(res)  # a tie goes to the higher threshold (fewer alarms)
    print(f"best global threshold {best[1]:.2f}: clip cry F1 {best[0]:.3f}")


if __name__ == "__main__":
    main()
