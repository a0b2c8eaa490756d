#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the JSON Lines a `crymeter analyze --level-step 1 --start ...` of a long
recording would give, without the audio: one level record per second and episodes at
seeded random times, each with its "clock". For the report tests and the size/time
measurement of a 24-hour report (analysing 24 h of audio would take a minute).

  gen_night.py OUT.jsonl [--hours 24] [--start 2026-12-01T19:00:00+01:00]
               [--file night.wav] [--seed 1] [--episodes 80]
"""
import argparse
import datetime as dt
import json
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--start", default="2026-12-01T19:00:00+01:00")
    ap.add_argument("--file", default="night.wav")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--episodes", type=int, default=80)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    t0 = dt.datetime.fromisoformat(a.start)
    dur = int(a.hours * 3600)

    def clock(t):
        c = t0 + dt.timedelta(seconds=t)
        return c.isoformat(timespec="milliseconds")

    # Episodes: non-overlapping cry and vocal bouts; some cries followed by a sob episode
    # that overlaps their end, as the analyzer reports sobbing that outlasts the tears.
    eps, t, ident = [], rnd.uniform(60, 600), 1
    gap = dur / max(a.episodes, 1)
    while t < dur - 400 and len(eps) < a.episodes:
        cls = rnd.choice(["cry", "cry", "cry", "vocal"])
        d = round(rnd.choice([rnd.uniform(2, 40), rnd.uniform(40, 300)]), 3)
        spl = round(rnd.uniform(62, 92), 2)
        eps.append((ident, cls, round(t, 3), d, spl))
        ident += 1
        if cls == "cry" and rnd.random() < 0.3:
            eps.append((ident, "sob", round(t + d * 0.6, 3), round(d * 0.6, 3), spl - 10))
            ident += 1
        t += d + rnd.uniform(0.3, 1.7) * gap
    loud_db, long_s = 76.0, 60.0
    level = {}
    with open(a.out, "w") as f:
        for (i, cls, s, d, spl) in eps:
            reasons = (["loud"] if spl >= loud_db else []) + (["long"] if d >= long_s else [])
            rec = {"type": "episode", "id": i, "file": a.file, "clock": clock(s), "class": cls,
                   "start_s": s, "end_s": round(s + d, 3), "duration_s": d,
                   "confidence": None if cls == "sob" else 0.9,
                   "loudness": {"lufs_momentary_max": round(spl - 100, 2), "dba_max": round(spl - 100, 2),
                                "peak_dbfs": -3.0, "spl_db_max": spl, "calibrated": False},
                   "pitch": {"f0_median_hz": 450.0},
                   "excessive": {"flag": bool(reasons), "reasons": reasons,
                                 "loud_excess_db": round(spl - loud_db, 2) if "loud" in reasons else 0.0,
                                 "long_excess_s": round(d - long_s, 3) if "long" in reasons else 0.0}}
            if cls == "sob":
                rec["sob"] = {"pulses": int(d * 0.6), "pulse_rate_hz": 0.6, "pulse_cv": 0.12}
            else:
                rec["shape"] = {"bursts": int(d / 1.4) + 1, "inhalations": int(d / 1.6),
                                "burst_rate_hz": 0.7, "regularity_cv": 0.3, "rhythm": "rhythmic",
                                "melody": {"f0_median_hz": 450.0, "f0_p10_hz": 380.0,
                                           "f0_p90_hz": 560.0, "f0_range_st": 6.7,
                                           "rise_fall_share": 0.6},
                                "intensity": {"effort_db": -5.0, "label": "intense"},
                                "sob_s": 0.0}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            for k in range(int(s), min(int(s + d) + 1, dur)):
                level[k] = (spl - rnd.uniform(0, 8), "cry" if cls != "vocal" else "vocal")
        for k in range(dur):
            spl, cls = level.get(k, (rnd.gauss(36, 2) + (8 if rnd.random() < 0.01 else 0), "background"))
            rec = {"type": "level", "file": a.file, "clock": clock(k), "start_s": float(k),
                   "end_s": float(k + 1), "lufs_momentary_max": round(spl - 100, 2),
                   "dba_max": round(spl - 100, 2), "spl_db_max": round(spl, 2),
                   "calibrated": False, "class": cls,
                   "cry_p": 0.95 if cls == "cry" else round(rnd.uniform(0, 0.2), 3)}
            f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        by = {c: sum(1 for e in eps if e[1] == c) for c in ("cry", "sob", "vocal")}
        f.write(json.dumps({"type": "summary", "version": 1, "file": a.file, "clock": clock(0),
                            "duration_s": float(dur), "episodes": len(eps),
                            "episodes_by_class": {**by, "background": 0}},
                           separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
