#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where the mixture event errors are (models/README.md, "What was tried and not kept").

Usage: run the evaluate command of models/README.md with the developer dumps
    CM_EVAL_DUMP=d.tsv CM_EVAL_WIN=w.tsv ./build/crymeter evaluate ... --mix
then  python3 models/mix_errors.py d.tsv w.tsv

Each reference cry, in onset order, takes the first unmatched episode starting within 1 s of
it (the metric's own matching, cm_event_counts). The others are "none" (no episode overlaps
the cry), "early" (the overlapping episode starts more than 1 s before the onset) or "late".
Prints the counts, by SNR band, the best window probability of the missed cries, the start
offsets, and for the early ones the highest p(cry) of a window that ended before the onset.
"""
import collections
import sys


def main(dump, win):
    refs, ests = collections.defaultdict(list), collections.defaultdict(list)
    for line in open(dump):
        f = line.rstrip("\n").split("\t")
        if f[1] == "ref":
            refs[int(f[0])].append((int(f[2]), float(f[3]), float(f[4]), float(f[5])))
        else:
            ests[int(f[0])].append((float(f[3]), float(f[4])))
    wins = collections.defaultdict(list)  # fold -> (first s, end s, p(cry))
    for line in open(win):
        f = line.split("\t")
        wins[int(f[0])].append((int(f[1]) / 100, (int(f[2]) + 1) / 100, float(f[4])))
    rows, fps = [], collections.Counter()
    for fo in refs:
        es = sorted(ests[fo])
        used = set()
        ref = sorted(refs[fo], key=lambda r: r[1])
        for lab, on, off, snr in ref:
            if lab != 2:  # CM_CLASS_CRY
                continue
            m = next((j for j, (a, _) in enumerate(es) if j not in used and abs(a - on) <= 1), None)
            if m is not None:
                used.add(m)
            ov = [e for e in es if e[0] < off and e[1] > on]
            pmax = max([p for a, b, p in wins[fo] if a >= on - 0.5 and b <= off + 0.5] or [0])
            pre = max([p for a, b, p in wins[fo] if ov and ov[0][0] <= b <= on] or [0])
            cat = "TP" if m is not None else "none" if not ov else "early" if ov[0][0] < on - 1 else "late"
            rows.append((cat, snr, pmax, ov[0][0] - on if ov else None, pre))
        for j, (a, b) in enumerate(es):
            if j in used:
                continue
            hit = next((r for r in ref if a < r[2] and b > r[1]), None)
            fps["bed" if hit is None else ("cry" if hit[0] == 2 else "vocal")] += 1
    print("cries:", dict(collections.Counter(r[0] for r in rows)))
    print("unmatched episodes over:", dict(fps))
    for lo, hi in ((0, 5), (5, 10), (10, 15), (15, 21)):
        sub = [r for r in rows if lo <= r[1] < hi]
        print(f"SNR {lo}-{hi} dB: {len(sub)}", dict(collections.Counter(r[0] for r in sub)))
    none = [r for r in rows if r[0] == "none"]
    print(f"none: {len(none)}, best window p(cry) < 0.9: {sum(r[2] < 0.9 for r in none)}, "
          f"< 0.5: {sum(r[2] < 0.5 for r in none)}")
    for cat in ("late", "early"):
        off = sorted(r[3] for r in rows if r[0] == cat)
        print(f"{cat} start offsets (s):", [round(x, 1) for x in off])
    tp = sorted(r[3] for r in rows if r[0] == "TP")
    print("found: start offset deciles (s):", [round(tp[len(tp) * q // 10], 2) for q in range(10)])
    pre = sorted(r[4] for r in rows if r[0] == "early")
    print("early: highest p(cry) before the onset:", [round(x, 2) for x in pre])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
