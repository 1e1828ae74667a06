#!/usr/bin/env python3
"""Golden outputs of Apache Flink's DataStream rolling aggregations (PyFlink, parallelism 1).

Writes input.csv (60 lines `key,a,b`, from a fixed LCG so it is identical on every run), then runs
one Flink job per aggregation on key_by(lambda t: t[0]) and writes every emitted record, in
emission order, to <name>.csv as `key,a,b`:

    sum_1     .sum(1)
    min_2     .min(2)
    max_2     .max(2)
    min_by_2  .min_by(2)
    max_by_2  .max_by(2)
    reduce    .reduce(lambda x, y: (x[0], x[1] + y[1], max(x[2], y[2])))

Run with the Python of the PyFlink venv made by ../../../../shared/peers/flink/run_sql.sh --install:
    ${PEERS_DIR:-$HOME/.cache/weir-peers}/flink-venv/bin/python tests/data/flink_rolling/generate.py
"""
import os
import sys

from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
N_ROWS = 60
KEYS = ["k1", "k2", "k3", "k4"]


def lcg(seed):
    """Tiny deterministic PRNG (Numerical Recipes LCG), independent of Python's `random`."""
    state = seed
    while True:
        state = (1664525 * state + 1013904223) % (1 << 32)
        yield state >> 16  # the high bits are the better ones


def make_input():
    r = lcg(20240601)
    rows = []
    for _ in range(N_ROWS):
        key = KEYS[next(r) % 4]
        a = next(r) % 21 - 5  # -5..15
        b = next(r) % 11 - 3  # -3..7: narrow range -> many ties on b within a key
        rows.append((key, a, b))
    return rows


def write_csv(path, rows):
    with open(path, "w") as f:
        for k, a, b in rows:
            f.write(f"{k},{a},{b}\n")


def read_input(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                k, a, b = line.split(",")
                rows.append((k, int(a), int(b)))
    return rows


AGGS = {
    "sum_1": lambda ks: ks.sum(1),
    "min_2": lambda ks: ks.min(2),
    "max_2": lambda ks: ks.max(2),
    "min_by_2": lambda ks: ks.min_by(2),
    "max_by_2": lambda ks: ks.max_by(2),
    "reduce": lambda ks: ks.reduce(lambda x, y: (x[0], x[1] + y[1], max(x[2], y[2]))),
}


def run(name, rows):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    # Python UDF workers must use this same interpreter (the venv's), not whatever `python` is on PATH.
    env.set_python_executable(sys.executable)
    ds = env.from_collection(rows, type_info=Types.TUPLE([Types.STRING(), Types.LONG(), Types.LONG()]))
    out = AGGS[name](ds.key_by(lambda t: t[0]))
    result = []
    with out.execute_and_collect(f"flink_rolling_{name}") as it:
        for t in it:
            result.append((t[0], t[1], t[2]))
    return result


def main():
    input_path = os.path.join(HERE, "input.csv")
    write_csv(input_path, make_input())
    rows = read_input(input_path)
    for name in AGGS:
        result = run(name, rows)
        write_csv(os.path.join(HERE, f"{name}.csv"), result)
        print(f"{name}: {len(result)} records")


if __name__ == "__main__":
    main()
