"""Execute each chapter notebook in a fresh kernel and print its wall time against its budget.

The budgets are the issues' targets on the book's reference machine (2 CPU cores, no GPU).
Times include starting the kernel and importing torch, as a reader's "Run all" does.

    python benchmarks/time_chapters.py             # every chapter, 2 runs each, median
    python benchmarks/time_chapters.py --runs 1 02 # chapter 02 only, once

Nothing is written: the notebooks are executed in memory and their outputs discarded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
BUDGET_S = {"01": 20, "02": 20, "03": 30, "04": 60, "05": 90}


def execute(path: Path) -> float:
    """Run every cell of the notebook at ``path`` in a new kernel; return seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 01 02 (default: all)")
    parser.add_argument("--runs", type=int, default=2, help="executions per chapter (median kept)")
    args = parser.parse_args()
    paths = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.name[:2] in args.chapters]
    print(f"{'chapter':40s} {'median s':>9s} {'budget s':>9s} {'ratio':>6s}")
    for path in paths:
        seconds = statistics.median(execute(path) for _ in range(args.runs))
        budget = BUDGET_S.get(path.name[:2])
        ratio = f"{seconds / budget:6.2f}" if budget else "     -"
        flag = "  OVER BUDGET" if budget and seconds > budget else ""
        print(f"{path.stem:40s} {seconds:9.1f} {budget or '-':>9} {ratio}{flag}")


if __name__ == "__main__":
    main()
