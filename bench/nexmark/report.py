#!/usr/bin/env python3
"""Result lines of the Nexmark harness (run.sh) and the table made from them.

  report.py flink-line QUERY EVENTS PARALLELISM STATUS RUN_SQL_JSON
      one result line from the JSON line run_sql.sh --json-out wrote
  report.py weir-line QUERY EVENTS PARALLELISM STATUS TIME_V_FILE MACHINE_TICKS
      one result line from `/usr/bin/time -v` output and the machine's busy ticks meanwhile
  report.py compare-line QUERY EVENTS PARALLELISM STATUS
      the line recording whether Weir's output equals Flink's (STATUS equal or different)
  report.py table RESULTS_JSONL
      a markdown table: per query and engine, events/s, events/s per core and peak RSS

A result line: {"engine", "query", "events", "parallelism", "status", "secs" (the time the
rate is computed from), "secs_kind", "cpu_s" (user + system of the engine's process),
"rss_mb", "other_cpu_s" (CPU other processes used meanwhile)}.
"""
import json
import re
import sys

CLK_TCK = 100


def result(engine, query, events, parallelism, status, **figures):
    line = {"engine": engine, "query": query, "events": int(events),
            "parallelism": int(parallelism), "status": status}
    line.update(figures)
    return json.dumps(line)


def flink_line(query, events, parallelism, status, path):
    try:
        with open(path) as f:
            run = json.loads(f.read().strip().splitlines()[-1])
    except (OSError, IndexError, ValueError):
        return result("flink", query, events, parallelism, "failed")
    jobs = run.get("jobs") or []
    job_s = sum(j.get("net_runtime_s") or 0 for j in jobs)
    rusage = run.get("jvm_rusage") or {}
    return result("flink", query, events, parallelism, status if jobs else "failed",
                  secs=job_s, secs_kind="job (net runtime)",
                  wall_s=run.get("total_wall_in_python_s"),
                  cpu_s=round((rusage.get("user_cpu_s") or 0) + (rusage.get("sys_cpu_s") or 0), 2),
                  rss_mb=rusage.get("max_rss_mb"),
                  other_cpu_s=run.get("other_processes_cpu_s"),
                  loadavg=run.get("loadavg_at_end"))


def time_v_seconds(text):
    """Seconds of a `/usr/bin/time -v` elapsed time: [h:]m:s."""
    parts = [float(p) for p in text.split(":")]
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return secs


def weir_line(query, events, parallelism, status, path, machine_ticks):
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.strip().rpartition(": ")
                fields[key] = value
    except OSError:
        return result("weir", query, events, parallelism, "failed")
    wall = time_v_seconds(fields.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0"))
    cpu = float(fields.get("User time (seconds)", 0)) + float(fields.get("System time (seconds)", 0))
    rss_mb = int(fields.get("Maximum resident set size (kbytes)", 0)) // 1024
    other = max(0.0, int(machine_ticks) / CLK_TCK - cpu)
    return result("weir", query, events, parallelism, status, secs=wall,
                  secs_kind="process wall", cpu_s=round(cpu, 2), rss_mb=rss_mb,
                  other_cpu_s=round(other, 1))


def rate(events, secs):
    return events / secs if secs else None


def fmt_rate(r):
    if r is None:
        return "-"
    return f"{r / 1e6:.2f}M" if r >= 1e6 else f"{r / 1e3:.0f}k"


def table(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[(r["query"], r["engine"])] = r
    queries = sorted({q for q, _ in runs}, key=lambda q: int(re.sub(r"\D", "", q) or 0))
    out = ["| query | Flink ev/s | Flink ev/s/core | Flink RSS | Weir ev/s | Weir ev/s/core | Weir RSS | Weir/Flink per core | outputs | other CPU s (F/W) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for q in queries:
        cells = [q]
        per_core = {}
        other = []
        for engine in ("flink", "weir"):
            r = runs.get((q, engine))
            if r is None:
                cells += ["not run"] * 3
                other.append("-")
                continue
            if r["status"] != "ok":
                cells += [r["status"], "-", "-"]
                other.append("-")
                continue
            per_core[engine] = rate(r["events"], r.get("cpu_s"))
            cells += [fmt_rate(rate(r["events"], r.get("secs"))), fmt_rate(per_core[engine]),
                      f"{r.get('rss_mb')} MB"]
            other.append(str(r.get("other_cpu_s")))
        if per_core.get("flink") and per_core.get("weir"):
            cells.append(f"{per_core['weir'] / per_core['flink']:.1f}x")
        else:
            cells.append("-")
        compared = runs.get((q, "compare"))
        cells.append(compared["status"] if compared else "-")
        cells.append(" / ".join(other))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "flink-line" and len(argv) == 7:
        print(flink_line(*argv[2:]))
    elif command == "weir-line" and len(argv) == 8:
        print(weir_line(*argv[2:]))
    elif command == "compare-line" and len(argv) == 6:
        print(result("compare", *argv[2:]))
    elif command == "table" and len(argv) == 3:
        print(table(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
