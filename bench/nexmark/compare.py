#!/usr/bin/env python3
"""Compares two engines' outputs of one query, ignoring row order.

  compare.py EXPECTED_DIR ACTUAL_DIR

Each directory holds the CSV part files a filesystem sink wrote (files whose names start
with '.' or '_' are in-progress or markers and are skipped). Rows are compared as
multisets after normalising each field, so that equal values written differently agree:
timestamps lose trailing zeros of their fraction ("12:00:00.500" and "12:00:00.5",
"12:00:00.000" and "12:00:00"), and numbers are compared by value ("3.0" and "3").

Prints "equal (N rows)" and exits 0, or the counts and a few rows only one side has and
exits 1.
"""
import csv
import os
import re
import sys
from collections import Counter
from decimal import Decimal, InvalidOperation

TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:\.(\d+))?$")
SHOWN = 5


def normal_field(value):
    m = TIMESTAMP.match(value)
    if m:
        fraction = (m.group(2) or "").rstrip("0")
        return m.group(1).replace("T", " ") + ("." + fraction if fraction else "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    return str(number.normalize()) if number.is_finite() else value


def rows(directory):
    found = Counter()
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        for name in files:
            if name.startswith((".", "_")):
                continue
            with open(os.path.join(root, name), newline="") as f:
                for row in csv.reader(f):
                    found[tuple(normal_field(v) for v in row)] += 1
    return found


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    expected, actual = rows(argv[1]), rows(argv[2])
    if expected == actual:
        print(f"equal ({sum(expected.values())} rows)")
        return 0
    missing, extra = expected - actual, actual - expected
    print(f"different: {sum(expected.values())} rows expected, {sum(actual.values())} found; "
          f"{sum(missing.values())} missing, {sum(extra.values())} unexpected")
    for label, diff in (("missing", missing), ("unexpected", extra)):
        for row in list(diff)[:SHOWN]:
            print(f"  {label}: {','.join(row)}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
