#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Would an episode-shape rule separate false cry episodes from true ones?

Reads the developer dumps of `crymeter evaluate` (models/README.md, "What was tried and
not kept": the episode-shape veto): CM_EVAL_SHAPE (every cry episode of the false-alarm stream and of the mixtures, with
its cm_shape_result) and CM_EVAL_DUMP (the mixtures' reference events). A mixture episode is
"matched" when the event metric's own rule pairs it with a reference cry (reference cries in
onset order each take the first unmatched episode starting within 1 s of their onset). Every
episode of the false-alarm stream is false. For each candidate rule (an episode is kept when
it holds) it prints the false episodes kept (and per hour), the matched mixture episodes
kept, the other mixture episodes kept, the event F1 with the dropped episodes removed (the
same matching again), and the false episodes kept per fold. The rule is applied to the
episode's final shape (as a veto at the END record); `--at-start` applies it to the bursts
that had ended when the START record fired instead.

    python3 models/shape_veto.py SHAPE.tsv DUMP.tsv [--at-start]
"""
import math
import sys

NAN = float("nan")


def num(x):
    try:
        return float(x)
    except ValueError:
        return NAN


SCALARS = ["n_bursts", "n_inhalations", "n_other", "burst_rate_hz", "regularity_cv",
           "rhythm", "f0_median_hz", "f0_p10_hz", "f0_p90_hz", "f0_range_st",
           "rise_fall_share", "effort_db", "level_dbfs_max", "intensity", "n_sob", "sob_s",
           "truncated", "n_listed"]


def read_shape(path):
    eps, at, secs = [], {}, 0.0
    for ln in open(path):
        t = ln.rstrip("\n").split("\t")
        if t[0] == "L":
            secs += float(t[3])
            continue
        if t[0] == "S":
            at[(t[1], int(t[2]), int(t[3]))] = float(t[5])
            continue
        e = {"tag": t[1], "fold": int(t[2]), "id": int(t[3]), "start": float(t[4]),
             "end": float(t[5]), "conf": float(t[6]), "bursts": []}
        if t[7] == "noshape":
            e["noshape"] = True
            eps.append(e)
            continue
        for i, k in enumerate(SCALARS):
            e[k] = num(t[7 + i])
        if len(t) > 26 and t[26]:
            for b in t[26].split(";"):
                on, off, kind, con, f0, rg = b.split(",")
                e["bursts"].append((float(on), float(off), int(kind), int(con), num(f0), num(rg)))
        eps.append(e)
    for e in eps:
        e["at"] = at.get((e["tag"], e["fold"], e["id"]), e["end"])
    return eps, secs / 3600.0


def read_refs(path):
    refs = {}
    for ln in open(path):
        t = ln.rstrip("\n").split("\t")
        if t[1] == "ref" and t[2] == "2":  # CM_CLASS_CRY
            refs.setdefault(int(t[0]), []).append(float(t[3]))
    return {f: sorted(v) for f, v in refs.items()}


def match(onsets, starts):
    """cm_event_counts: TP count of estimates (starts) against reference onsets, 1 s collar."""
    used, tp = [False] * len(starts), 0
    order = sorted(range(len(starts)), key=lambda j: starts[j])
    for r in onsets:
        for j in order:
            if not used[j] and abs(r - starts[j]) <= 1.0 + 1e-9:
                used[j] = True
                tp += 1
                break
    return tp, used


def describe(e, upto):
    """Shape figures from the listed bursts overlapping [start, upto] (upto None: the
    episode's final figures from cm_shape_result, plus burst-list figures)."""
    d = dict(e)
    end = e["end"] if upto is None else min(upto, e["end"])
    bl = [b for b in e["bursts"] if b[1] > e["start"] and b[0] < end]
    cry = [b for b in bl if b[2] == 0]
    inh = [b for b in bl if b[2] == 1]
    if upto is not None:
        d["n_bursts"], d["n_inhalations"] = len(cry), len(inh)
        on = [b[0] for b in cry]
        d["burst_rate_hz"] = ((len(on) - 1) / (on[-1] - on[0])
                              if len(on) >= 2 and on[-1] > on[0] else NAN)
    d["inhale_between"] = sum(1 for i in inh if any(c[1] <= i[0] + 0.05 for c in cry)
                              and any(c[0] >= i[1] - 0.05 for c in cry))
    d["longest_unit_s"] = max((b[1] - b[0] for b in cry), default=0.0)
    d["duration_s"] = end - e["start"]
    return d


def ok(x):
    return not math.isnan(x)


RULES = [
    ("none (as now)", lambda d: True),
    ("cry units >= 2", lambda d: d["n_bursts"] >= 2),
    ("cry units >= 3", lambda d: d["n_bursts"] >= 3),
    ("inhalations >= 1", lambda d: d["n_inhalations"] >= 1),
    ("cry units >= 2 and inhalations >= 1",
     lambda d: d["n_bursts"] >= 2 and d["n_inhalations"] >= 1),
    ("an inhalation between two cry units", lambda d: d["inhale_between"] >= 1),
    ("rise-fall share >= 0.5 (none measured: kept)",
     lambda d: not ok(d["rise_fall_share"]) or d["rise_fall_share"] >= 0.5),
    ("F0 range >= 6 st", lambda d: d["f0_range_st"] >= 6),
    ("F0 median >= 250 Hz", lambda d: d["f0_median_hz"] >= 250),
    ("F0 median >= 250 Hz and F0 range >= 6 st",
     lambda d: d["f0_median_hz"] >= 250 and d["f0_range_st"] >= 6),
    ("effort >= -25 dB", lambda d: d["effort_db"] >= -25),
    ("cry units >= 2 or F0 range >= 12 st",
     lambda d: d["n_bursts"] >= 2 or d["f0_range_st"] >= 12),
    ("burst rate < 1.5 Hz (fewer than 2 units: kept)", lambda d: not d["burst_rate_hz"] >= 1.5),
    ("burst rate < 1.25 Hz (fewer than 2 units: kept)",
     lambda d: not d["burst_rate_hz"] >= 1.25),
    ("episode >= 2.5 s", lambda d: d["duration_s"] >= 2.5),
    ("not (episode < 2.5 s and longest unit < 2.5 s)",
     lambda d: not (d["duration_s"] < 2.5 and d["longest_unit_s"] < 2.5)),
]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    at_start = "--at-start" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    eps, hours = read_shape(args[0])
    eps = [e for e in eps if not e.get("noshape")]
    refs = read_refs(args[1])
    folds = sorted(set(e["fold"] for e in eps) | set(refs))
    for f in folds:
        mx = [e for e in eps if e["tag"] == "mix" and e["fold"] == f]
        _, used = match(refs.get(f, []), [e["start"] for e in mx])
        for e, u in zip(mx, used):
            e["matched"] = u
    ds = [describe(e, e["at"] if at_start else None) for e in eps]
    fa = [d for d in ds if d["tag"] == "fa"]
    tp = [d for d in ds if d["tag"] == "mix" and d["matched"]]
    other = [d for d in ds if d["tag"] == "mix" and not d["matched"]]
    print("| rule (episode kept when) | false episodes kept (per hour) | matched mixture "
          "episodes kept | other mixture episodes kept | event F1 (TP FP FN) | false kept per "
          "fold |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, keep in RULES:
        TP = FP = FN = 0
        for f in folds:
            kept = [d["start"] for d in ds if d["tag"] == "mix" and d["fold"] == f and keep(d)]
            t, _ = match(refs.get(f, []), kept)
            TP, FP, FN = TP + t, FP + len(kept) - t, FN + len(refs.get(f, [])) - t
        nf = sum(map(keep, fa))
        per = " ".join("%d/%d" % (sum(keep(d) for d in fa if d["fold"] == f),
                                  sum(1 for d in fa if d["fold"] == f)) for f in folds)
        print("| %s | %d of %d (%.2f) | %d of %d | %d of %d | %.3f (%d %d %d) | %s |" % (
            name, nf, len(fa), nf / hours, sum(map(keep, tp)), len(tp), sum(map(keep, other)),
            len(other), 2 * TP / (2 * TP + FP + FN) if TP + FP + FN else 0, TP, FP, FN, per))


if __name__ == "__main__":
    main()
