#!/usr/bin/env python3
"""Leaves out of training the non-cry clips that the AudioSet teacher hears as crying.

    teacher_filter.py MANIFEST TEACHER.csv.gz [--max 0.5] > train.csv

The shared data labels some clips by where they came from, not by listening: game
characters' death groans and pain cries are "other" (so vocal), yet some are wails or sobs a
listener would call crying, and they teach the model that adult crying is not crying. The
teacher (../shared/data/teacher/yamnet.csv.gz) is good on such adult non-cry vocalisations
and bad on infant laughter and adult crying (../shared/research/distillation-probe.md), so it
is used in one direction only: a clip with a human non-cry label (FILTERED below: not
laughter, babble or other infant sounds, where its cry score is known to be wrong) whose
highest patch score for "Crying, sobbing", "Baby cry, infant cry" or "Wail, moan" reaches
--max is left out of the training manifest written to stdout. Cry labels are never touched
(the teacher gives adult crying 0.10 on average), nor are animals and other background: a
cat the teacher hears as a crying baby is exactly the negative the model must learn. The
clips left out are listed on stderr.
evaluate --train-only takes the output, so every clip is still scored.
"""
import csv
import gzip
import sys

CRY_KEYS = ("Crying, sobbing", "Baby cry, infant cry", "Wail, moan")
# Human non-cry labels where a crying-like clip is label noise. Not laughter, babble or
# squeals: the teacher gives infant laughter a cry score of 0.15 on average, 0.5 or more on
# 14 % of its patches, and they are the confusers the model most needs.
FILTERED = {"other", "vocal", "speech", "cough", "sneeze", "breath", "breathing", "snore",
            "snoring", "scream", "moan", "yawn", "sigh", "voice", "child_voice", "singing"}


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    man, teacher = argv[0], argv[1]
    th = 0.5
    if len(argv) == 4 and argv[2] == "--max":
        th = float(argv[3])
    elif len(argv) != 2:
        sys.exit("teacher_filter.py: usage: MANIFEST TEACHER.csv.gz [--max P]")
    score = {}
    with gzip.open(teacher, "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            s = max(float(r[k]) for k in CRY_KEYS)
            if s > score.get(r["path"], -1.0):
                score[r["path"]] = s
    with open(man, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    pi, li = head.index("path"), head.index("label")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(head)
    dropped = 0
    for r in body:
        s = score.get(r[pi])
        if r[li] in FILTERED and s is not None and s >= th:
            print(f"left out of training: {r[pi]} ({r[li]}, teacher cry {s:.2f})", file=sys.stderr)
            dropped += 1
            continue
        out.writerow(r)
    print(f"teacher_filter.py: {dropped} of {len(body)} clips left out of training "
          f"(teacher cry/wail >= {th})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
