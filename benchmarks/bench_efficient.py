"""Time and peak memory of naive, tiled (flash) and fused attention, and linear attention, on CPU.

Four ways to compute self-attention over one sequence of length L (batch 1, 8 heads, head size 64,
float32, forward only, no mask), side by side in one run:

- ``naive``: the library's readable path, ``attention(..., need_weights=True)``: it builds the
  ``(8, L, L)`` scores and weights (Vaswani et al., NeurIPS 2017, arXiv:1706.03762);
- ``tiled``: ``flash_attention`` (attention_utils.efficient), FlashAttention-2's partitioning in
  PyTorch: chunks of queries of all heads against blocks of keys, with a running max and sum
  (Dao et al., NeurIPS 2022, arXiv:2205.14135; Dao, ICLR 2024, arXiv:2307.08691);
- ``sdpa``: PyTorch's fused ``F.scaled_dot_product_attention`` on 4-D inputs (its C++ flash kernel);
- ``linear``: ``linear_attention`` with the elu+1 feature map (Katharopoulos et al., ICML 2020,
  arXiv:2006.16236), a different model, shown for its cost curve (sweep only).

Time: in one process, every method is called once to warm up, then ``--repeats`` rounds call each
method once in turn, the order rotating from round to round (so that no method always runs first
or always after the same neighbour); each call is one ``torch.utils.benchmark.Timer`` measurement
with the thread count set. A row prints the median time and the spread (min to max over the
rounds), and the ratio tiled / SDPA per round, its median and spread: both methods ran side by
side under the same load, so the ratio is what another machine reproduces, not the milliseconds.

Peak memory (sound on a CPU, where there is no allocator counter as on a GPU): every
(method, L) point runs in a fresh Python process. The child imports torch, runs the method once on
a tiny input (so thread pools and kernel caches exist before the baseline) and builds the inputs.
It then resets the kernel's high-water mark of its resident set size (writing 5 to
/proc/self/clear_refs, Linux >= 4.0), reads its resident set size (VmRSS) as the baseline, runs
the method once and reads the high-water mark (VmHWM), which the kernel keeps page by page, so no
short-lived peak is missed. Peak extra memory = high-water mark - baseline. The child checks that
the reset worked and the table marks a point with ``*`` if it did not. The naive path is skipped
(``-``) where its scores would not fit in half the machine's free memory.

The machine line: float32 matrix-multiply rate (1024 x 1024), and memory bandwidth from a copy
into a preallocated buffer (``y.copy_(x)``, 8 bytes moved per float32) and from a STREAM triad
(``a = b + s * c`` into a preallocated ``a``, 12 bytes per float32), 64 MiB arrays, best of 5
after a warm-up. (``x.clone()`` would allocate fresh pages at every call and measure page faults,
not bandwidth.) Their quotient is the machine balance in FLOP per byte.

Usage:
    python benchmarks/bench_efficient.py                  # L = 8192, 1 and 2 threads (~2 min)
    python benchmarks/bench_efficient.py --quick          # L = 1024: a smoke run
    python benchmarks/bench_efficient.py --sweep          # L = 512 ... 16384, 1 thread, 4 methods
    python benchmarks/bench_efficient.py --lengths 4096 --threads 1 2 4 --repeats 7

Writes nothing to disk.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

NUM_HEADS, HEAD_SIZE = 8, 64
METHODS = ("naive", "tiled", "sdpa", "linear")


def _status_bytes(field: str) -> int:
    """A memory field of /proc/self/status (VmRSS: resident now, VmHWM: its high-water mark)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # the file gives KiB
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Reset this process's RSS high-water mark to its current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def methods():
    """The function of (queries, keys, values) that each method names."""
    from torch.nn import functional as F

    from attention_utils import attention, flash_attention, linear_attention

    return {
        "naive": lambda q, k, v: attention(q, k, v, need_weights=True)[0],
        "tiled": lambda q, k, v: flash_attention(q, k, v),
        "sdpa": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        "linear": lambda q, k, v: linear_attention(q, k, v),
    }


def inputs(length: int):
    import torch

    torch.manual_seed(0)
    return tuple(torch.randn(1, NUM_HEADS, length, HEAD_SIZE) for _ in range(3))


def child(method: str, length: int, threads: int) -> None:
    """Measure one point's peak extra memory in this (fresh) process and print it as JSON."""
    import torch

    fn = methods()[method]
    torch.set_num_threads(threads)
    with torch.inference_mode():
        fn(*(torch.randn(1, NUM_HEADS, 64, HEAD_SIZE) for _ in range(3)))  # warm up kernels
        q, k, v = inputs(length)
        _reset_peak()
        baseline, before = _status_bytes("VmRSS"), _status_bytes("VmHWM")
        fn(q, k, v)  # (1, num_heads, length, head_size)
        peak = _status_bytes("VmHWM")
    sound = before <= baseline + 2**20  # the reset brought the high-water mark down
    print(json.dumps({"peak_extra_bytes": peak - baseline, "sound": sound}))


def peak_memory(method: str, length: int, threads: int) -> dict:
    """Run :func:`child` in a fresh interpreter and return its result."""
    command = [sys.executable, __file__, "--child", method, str(length), str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def interleaved_times(fns: dict, threads: int, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each function: one warm-up each, then rounds in rotating order."""
    from torch.utils import benchmark

    timers = {
        name: benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads)
        for name, fn in fns.items()
    }
    for timer in timers.values():
        timer.timeit(1)  # warm-up: first-call costs (allocation, kernel selection) paid here
    names, times = list(fns), {name: [] for name in fns}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timers[name].timeit(1).mean)
    return times


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def machine_rates(threads: int) -> dict[str, float]:
    """Matrix-multiply FLOP/s and memory bandwidth (copy and triad into preallocated buffers)."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    x, y, z = torch.randn(2**24), torch.empty(2**24), torch.randn(2**24)  # 64 MiB each
    fns = {
        "matmul": lambda: torch.mm(a, b),
        "copy": lambda: y.copy_(x),
        "triad": lambda: torch.add(x, z, alpha=3.0, out=y),
    }
    best = {name: min(ts) for name, ts in interleaved_times(fns, threads, 5).items()}
    return {
        "flops": 2 * 1024**3 / best["matmul"],
        "copy": 8 * x.numel() / best["copy"],  # read x, write y
        "triad": 12 * x.numel() / best["triad"],  # read x and z, write y
    }


def machine_line(threads: int) -> str:
    """This machine's rates for the roofline argument, as one line."""
    rates = machine_rates(threads)
    return (
        f"machine, {threads} thread(s): float32 matmul {rates['flops'] / 1e9:.0f} GFLOP/s, "
        f"copy {rates['copy'] / 1e9:.1f} GB/s, triad {rates['triad'] / 1e9:.1f} GB/s, "
        f"balance {rates['flops'] / rates['triad']:.0f} FLOP/byte (matmul / triad)"
    )


def spread(values: list[float], scale: float = 1.0, fmt: str = ".0f") -> str:
    """'median (min-max)' of a list."""
    return (
        f"{format(statistics.median(values) * scale, fmt)} "
        f"({format(min(values) * scale, fmt)}-{format(max(values) * scale, fmt)})"
    )


def fitted_exponent(lengths: list[int], costs: list[float]) -> float:
    """Slope of the least-squares line through (log L, log cost)."""
    xs, ys = [math.log(n) for n in lengths], [math.log(c) for c in costs]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def ratio_run(lengths: list[int], thread_counts: list[int], repeats: int) -> None:
    """Tiled against SDPA in time (per thread count) and against naive in peak memory."""
    import torch

    fns = methods()
    for length in lengths:
        q, k, v = inputs(length)
        memory = {m: peak_memory(m, length, 1) for m in ("tiled", "sdpa")}
        if 2 * NUM_HEADS * length**2 * 4 < available_bytes() / 2:
            memory["naive"] = peak_memory("naive", length, 1)
        mib = {m: f"{r['peak_extra_bytes'] / 2**20:.0f}{'' if r['sound'] else '*'}"
               for m, r in memory.items()}
        print(f"L = {length}: peak extra MiB  tiled {mib['tiled']}, SDPA {mib['sdpa']}, "
              f"naive {mib.get('naive', '-')}")
        if "naive" in memory:
            share = memory["tiled"]["peak_extra_bytes"] / memory["naive"]["peak_extra_bytes"]
            print(f"L = {length}: tiled / naive peak extra memory = {share:.3f} "
                  f"(1/{1 / share:.0f})")
        with torch.inference_mode():
            for threads in thread_counts:
                times = interleaved_times(
                    {"tiled": lambda: fns["tiled"](q, k, v), "sdpa": lambda: fns["sdpa"](q, k, v)},
                    threads, repeats,
                )
                ratios = [t / s for t, s in zip(times["tiled"], times["sdpa"])]
                print(f"L = {length}, {threads} thread(s), {repeats} rounds: tiled ms "
                      f"{spread(times['tiled'], 1e3)}, SDPA ms {spread(times['sdpa'], 1e3)}; "
                      f"tiled / SDPA time = {spread(ratios, 1, '.2f')}", flush=True)


def sweep(lengths: list[int], threads: int, repeats: int) -> None:
    """The four methods over a range of L: median ms (spread) and peak extra MiB; exponents."""
    import torch

    fns = methods()
    print(f"{'L':>6} | {'naive ms':>18} {'tiled ms':>18} {'sdpa ms':>18} {'linear ms':>16} | "
          f"{'naive':>6} {'tiled':>6} {'sdpa':>6} {'linear':>6} MiB | tiled/sdpa t")
    medians: dict[str, dict[int, float]] = {m: {} for m in METHODS}
    memories: dict[str, dict[int, int]] = {m: {} for m in METHODS}
    for length in lengths:
        q, k, v = inputs(length)
        run = [m for m in METHODS
               if m != "naive" or 2 * NUM_HEADS * length**2 * 4 < available_bytes() / 2]
        for m in run:
            memories[m][length] = peak_memory(m, length, threads)["peak_extra_bytes"]
        with torch.inference_mode():
            times = interleaved_times(
                {m: (lambda m=m: fns[m](q, k, v)) for m in run}, threads, repeats
            )
        for m in run:
            medians[m][length] = statistics.median(times[m])
        cells = [f"{spread(times[m], 1e3):>18}" if m in times else f"{'-':>18}"
                 for m in METHODS]
        mems = [f"{memories[m][length] / 2**20:>6.0f}" if length in memories[m] else f"{'-':>6}"
                for m in METHODS]
        ratios = [t / s for t, s in zip(times["tiled"], times["sdpa"])]
        print(f"{length:>6} | {' '.join(cells)} | {' '.join(mems)}     | "
              f"{spread(ratios, 1, '.2f')}", flush=True)
    print("fitted exponents p in cost ~ L^p (least squares over L >= 1024):")
    for m in METHODS:
        ls = [n for n in sorted(medians[m]) if n >= 1024]
        if len(ls) >= 2:
            p_time = fitted_exponent(ls, [medians[m][n] for n in ls])
            p_mem = fitted_exponent(ls, [max(memories[m][n], 1) for n in ls])
            print(f"  {m:>6}: time L^{p_time:.2f}, peak extra memory L^{p_mem:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="L = 1024 only: a smoke run")
    parser.add_argument("--sweep", action="store_true", help="four methods, L = 512 ... 16384")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, length, threads = args.child
        child(method, int(length), int(threads))
        return
    import torch

    threads = args.threads or ([1] if args.sweep else [1, 2])
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, float32, forward, batch 1 x "
          f"{NUM_HEADS} heads of {HEAD_SIZE}")
    for n in threads:
        print(machine_line(n))
    if args.sweep:
        lengths = args.lengths or [512, 1024, 2048, 4096, 8192, 16384]
        sweep(lengths, threads[0], args.repeats or 3)
    else:
        lengths = args.lengths or ([1024] if args.quick else [8192])
        ratio_run(lengths, threads, args.repeats or 5)


if __name__ == "__main__":
    main()
