"""Execute each chapter as a fresh kernel does and print its wall time against its budget.

The budgets are the issues' targets on the book's reference machine (2 CPU cores, no GPU).
Times include starting the kernel and importing torch, as a reader's "Run all" does.

    python benchmarks/time_chapters.py             # every chapter, 2 runs each
    python benchmarks/time_chapters.py --runs 1 02 # chapter 02 only, once
    python benchmarks/time_chapters.py --runs 20 02 --timeout 60   # hunt for kernel stalls

Each run goes through ``jupyter_cache``'s ``single_nb_execution``, the function MyST-NB calls to
execute a notebook (the build now runs only the landing page; nbval runs the chapters), in the
chapter's folder, with a per-run timeout (``--timeout``, default the build's
``execute.timeout`` from ``_config.yml``). A run that times out or raises is reported as such
and the script exits non-zero. It prints the median and the slowest run: a kernel that
sometimes stalls shows up as a slowest run far above the median.

Nothing is written: the notebooks are executed in memory and their outputs discarded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import nbformat
import yaml
from jupyter_cache.executors.utils import single_nb_execution

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
BUDGET_S = {"01": 20, "02": 20, "03": 30, "04": 60, "05": 90,
            "06": 90, "07": 90, "08": 90, "09": 90, "10": 90}


def build_timeout() -> int:
    """The per-notebook execution timeout of the book build (``execute.timeout``)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return int(config["execute"]["timeout"])


def execute(path: Path, timeout: int) -> tuple[float, str | None]:
    """Run the notebook at ``path`` in a new kernel as the build does; return (seconds, error)."""
    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"[:200]
    return result.time, error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 01 02 (default: all)")
    parser.add_argument("--runs", type=int, default=2, help="executions per chapter")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds per execution (default: the build's execute.timeout)")
    args = parser.parse_args()
    timeout = args.timeout or build_timeout()
    paths = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    if args.chapters:
        paths = [p for p in paths if p.name[:2] in args.chapters]
    print(f"{args.runs} run(s) per chapter, timeout {timeout} s per run")
    print(f"{'chapter':36s} {'median s':>9s} {'slowest s':>10s} {'budget s':>9s} {'ratio':>6s}")
    failed = False
    for path in paths:
        runs = [execute(path, timeout) for _ in range(args.runs)]
        seconds = [t for t, _ in runs]
        errors = [e for _, e in runs if e]
        budget = BUDGET_S.get(path.name[:2])
        median, slowest = statistics.median(seconds), max(seconds)
        ratio = f"{slowest / budget:6.2f}" if budget else "     -"
        flag = "  OVER BUDGET" if budget and slowest > budget else ""
        print(f"{path.stem:36s} {median:9.1f} {slowest:10.1f} {budget or '-':>9} {ratio}{flag}",
              flush=True)
        for error in errors:
            print(f"    failed run: {error}")
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
