"""Run the strict book build several times from scratch and print each chapter's time per build.

    python benchmarks/time_builds.py             # 5 consecutive builds
    python benchmarks/time_builds.py --runs 1

Each build is ``.ci/run``'s: ``jupyter-book build . -W -n --keep-going`` with
``WHERE_TO_LOOK_LOCAL_ASSETS=require``, both editions, after removing everything a previous build
left (``_build/html``, the doctrees, the execution cache, ``_build/zh``), so that every chapter is
executed. Two times per chapter and build:

- ``exec``: what MyST-NB reports ("Executed notebook in ... seconds": kernel start, every cell,
  kernel shutdown);
- ``wall``: from the line announcing the chapter to the next document's, timed as the build's
  output arrives, so a stall anywhere around the execution (a kernel that does not start or does
  not stop, a client left waiting) shows here even when ``exec`` does not.

The table flags a chapter over its budget (``time_chapters.BUDGET_S``), and the script exits
non-zero if any build failed or any time is over budget. It also prints the Chinese edition's
share of each build (the second Sphinx run, which executes nothing). Slow: about five minutes
per build on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from time_chapters import BUDGET_S  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
LEFTOVERS = ["html", ".doctrees", ".jupyter_cache", "jupyter_execute", "zh"]
READING = re.compile(r"reading sources\.\.\. \[\s*\d+%\] (\S+)")
EXECUTED = re.compile(r"chapters/(\d\d)_\w+\.ipynb: Executed notebook in ([\d.]+) seconds")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_build() -> dict:
    """One strict build from scratch: per-chapter exec and wall seconds, totals, return code."""
    for name in LEFTOVERS:
        shutil.rmtree(BUILD / name, ignore_errors=True)
    env = dict(os.environ, WHERE_TO_LOOK_LOCAL_ASSETS="require")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book", "build", ".", "-W",
               "-n", "--keep-going"]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1)
    current, since, wall, executed, zh_start, tail = None, start, {}, {}, None, []
    for line in process.stdout:
        now, text = time.perf_counter(), ANSI.sub("", line)
        tail = (tail + [text])[-40:]
        if "building the Chinese edition" in text:
            zh_start = now
        if zh_start is None and (match := READING.search(text)):
            if current:
                wall[current] = now - since
            doc = match.group(1)
            current = doc[9:11] if doc.startswith("chapters/") else None
            since = now
        elif zh_start is None and current and "pickling environment" in text:
            wall[current], current = now - since, None
        if match := EXECUTED.search(text):
            executed[match.group(1)] = float(match.group(2))
    code = process.wait()
    end = time.perf_counter()
    return {"rc": code, "exec": executed, "wall": wall, "total": end - start,
            "zh": end - zh_start if zh_start else None, "tail": "".join(tail)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    builds = []
    for run in range(1, args.runs + 1):
        result = one_build()
        builds.append(result)
        zh = f", Chinese edition {result['zh']:.0f} s" if result["zh"] else ""
        print(f"build {run}: exit {result['rc']}, {result['total']:.0f} s{zh}", flush=True)
        if result["rc"]:
            print(result["tail"])
    over = []
    heads = " | ".join(f"build {i}: exec / wall" for i in range(1, len(builds) + 1))
    print(f"\n| chapter | budget (s) | {heads} | slowest |")
    print("|---|---|" + "---|" * len(builds) + "---|")
    for chapter, budget in BUDGET_S.items():
        cells, worst = [], 0.0
        for result in builds:
            e, w = result["exec"].get(chapter), result["wall"].get(chapter)
            cells.append(f"{e:.1f} / {w:.1f}" if e is not None and w is not None else "missing")
            worst = max(worst, e or 0.0, w or 0.0)
            if e is None or w is None or max(e, w) > budget:
                over.append(chapter)
        flag = " OVER" if worst > budget else ""
        print(f"| {chapter} | {budget} | {' | '.join(cells)} | {worst:.1f}{flag} |")
    totals = [b["total"] for b in builds]
    median = statistics.median(totals)
    print(f"\nbuild wall time: median {median:.0f} s, slowest {max(totals):.0f} s")
    failed = [i + 1 for i, b in enumerate(builds) if b["rc"]]
    if failed or over:
        print(f"failed builds: {failed}; chapters over budget or missing: {sorted(set(over))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
