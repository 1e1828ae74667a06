#!/usr/bin/env python3
"""Applies a changelog printed by a `print` sink to the final rows, written as CSV.

  fold_changelog.py PRINT_OUTPUT OUT_FILE

PRINT_OUTPUT holds lines such as `+I[a, 1]`, `-U[a, 1]`, `+U[a, 2]`, `-D[a, 2]` (with an
optional `subtask> ` prefix), as Flink's and Weir's print connector write them. +I and +U
add a row, -U and -D remove one; the rows left are the query's final result, as a batch
run would give it. Other lines (logs) are skipped. Fields are split at ", ": for results
whose strings hold no ", " (the Nexmark aggregations' are numbers and dates).
"""
import csv
import re
import sys
from collections import Counter

LINE = re.compile(r"^(?:\S+> )?([+-][IUD])\[(.*)\]$")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    rows = Counter()
    with open(argv[1]) as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            kind, values = m.groups()
            row = tuple("" if v == "null" else v for v in values.split(", "))
            if kind in ("+I", "+U"):
                rows[row] += 1
            else:
                rows[row] -= 1
                if rows[row] == 0:
                    del rows[row]
    with open(argv[2], "w", newline="") as out:
        writer = csv.writer(out)
        for row, n in rows.items():
            for _ in range(n):
                writer.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
