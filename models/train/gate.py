#!/usr/bin/env python3
"""The model gate (issue 20): compares recipes on the figures `crymeter evaluate --gate-out`
writes, and says whether a candidate is at least as good as every baseline on every figure.

    gate.py -b c86e9a9=w1.tsv -b 4e88dbc=w12.tsv candidate=cand.tsv [more=...]
    gate.py -b old=o1.tsv,o2.tsv new=n1.tsv,n2.tsv      (several training seeds: their mean)

Each file is one evaluate run on the same manifest, folds and seed (lines "key<TAB>value<TAB>
higher|lower<TAB>count"). A recipe given several files (one per --train-seed) is their mean:
one training seed moves the small figures a lot (cats flagged 0.25 or 0.33, adult crying
recall 0.00 or 0.11, for the same recipe), so compare means where a figure is close. Prints one Markdown table (a row per figure, a column per recipe)
and, for each candidate, PASS or the figures where it is worse than a baseline. A figure
that a baseline has and the candidate lacks is a failure. Exit status: 0 when every
candidate passes, 1 when one fails, 2 on a usage or file error.
"""
import sys


def read(path):
    rows = {}
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        sys.exit(f"gate.py: {path}: {e.strerror}")
    for no, line in enumerate(lines, 1):
        f = line.split("\t")
        if len(f) != 4 or f[2] not in ("higher", "lower"):
            sys.exit(f"gate.py: {path}:{no}: expected key, value, higher|lower, count; got {line!r}")
        try:
            rows[f[0]] = (float(f[1]), f[2], int(f[3]))
        except ValueError:
            sys.exit(f"gate.py: {path}:{no}: value {f[1]!r} or count {f[3]!r} is not a number")
    if not rows:
        sys.exit(f"gate.py: {path}: no figures")
    return rows


def main(argv):
    runs, base = [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        is_base = a == "-b"
        if is_base:
            i += 1
            if i == len(argv):
                sys.exit("gate.py: -b needs NAME=FILE")
            a = argv[i]
        if "=" not in a:
            sys.exit(f"gate.py: {a!r}: expected NAME=FILE")
        name, paths = a.split("=", 1)
        files = [read(p) for p in paths.split(",")]
        keys = [k for k in files[0] if all(k in f for f in files)]
        runs.append((name, {k: (sum(f[k][0] for f in files) / len(files), files[0][k][1],
                                files[0][k][2]) for k in keys}))
        if is_base:
            base.append(len(runs) - 1)
        i += 1
    cand = [k for k in range(len(runs)) if k not in base]
    if not base or not cand:
        sys.exit("gate.py: need at least one baseline (-b NAME=FILE) and one candidate NAME=FILE")
    keys = []
    for _, r in runs:
        keys += [k for k in r if k not in keys]
    print("| figure | better | " + " | ".join(n for n, _ in runs) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in runs) + " |")
    for k in keys:
        better = next(r[k][1] for _, r in runs if k in r)
        cells = []
        for _, r in runs:
            cells.append("-" if k not in r else f"{r[k][0]:.3f}" if not k.endswith("per_h")
                         else f"{r[k][0]:.1f}")
        # The count behind the figure (clips, events) when every run has the same; a count
        # that varies (false episodes, for one) is the run's result, not its sample size.
        ns = {r[k][2] for _, r in runs if k in r}
        label = f"{k} ({ns.pop()})" if len(ns) == 1 else k
        print(f"| {label} | {better} | " + " | ".join(cells) + " |")
    fails = 0
    for c in cand:
        name, r = runs[c]
        worse = []
        for b in base:
            bname, br = runs[b]
            for k, (bv, better, _) in br.items():
                if k not in r:
                    worse.append(f"{k} (missing; {bname} {bv:.3f})")
                    continue
                v = r[k][0]
                # Figures are printed to 4 decimals; equal to that is not worse.
                if (better == "higher" and v < bv - 5e-5) or (better == "lower" and v > bv + 5e-5):
                    worse.append(f"{k} {v:.3f} vs {bname} {bv:.3f}")
        if worse:
            fails += 1
            print(f"{name}: FAIL, worse on {len(worse)}: " + "; ".join(worse))
        else:
            print(f"{name}: PASS (every figure at least as good as " +
                  ", ".join(runs[b][0] for b in base) + ")")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
