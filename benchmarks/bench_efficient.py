"""Time and peak memory of naive, tiled (flash) and fused attention, and linear attention, on CPU.

Four ways to compute self-attention over one sequence of length L (batch 1, 8 heads, head size 64,
float32, forward only, no mask, eval mode), side by side in one run:

- ``naive``: the library's readable path, ``attention(..., need_weights=True)``: it builds the
  ``(8, L, L)`` scores and weights (Vaswani et al., NeurIPS 2017, arXiv:1706.03762);
- ``tiled``: ``flash_attention`` (attention_utils.efficient), tiles of ``block_size`` queries and
  keys with a running max and sum (Dao et al., NeurIPS 2022, arXiv:2205.14135), in Python;
- ``sdpa``: PyTorch's fused ``F.scaled_dot_product_attention`` on 4-D inputs (its C++ flash kernel);
- ``linear``: ``linear_attention`` with the elu+1 feature map (Katharopoulos et al., ICML 2020,
  arXiv:2006.16236), a different model, shown for its cost curve.

How peak memory is measured (sound on a CPU, where there is no allocator counter as on a GPU):
every (method, L) point runs in a fresh Python process. The child imports torch, runs the method
once on a tiny input (so thread pools and kernel caches exist before the baseline) and builds the
inputs. It then resets the kernel's high-water mark of its resident set size (writing 5 to
/proc/self/clear_refs, Linux >= 4.0), reads its resident set size (VmRSS in /proc/self/status) as
the baseline, runs the method once and reads the high-water mark (VmHWM), which the kernel keeps
page by page, so no short-lived peak is missed. Peak extra memory = high-water mark - baseline:
every byte the call allocated and touched at its worst moment (intermediates, output, allocator
overhead). ``resource.getrusage(...).ru_maxrss`` is the same high-water mark but cannot be reset,
and importing torch alone raises it about 250 MiB above the later RSS, which hides every peak
smaller than that. The child checks that the reset worked (high-water mark = baseline before the
call) and the table marks a point with ``*`` if it did not. Large tensors
are allocated with mmap by glibc, so freed intermediates do leave the RSS. After the memory
measurement the same child times the method (median of ``--repeats`` calls after one warm-up)
with ``time.perf_counter``. A point whose naive scores would not fit in half the machine's free
memory is skipped and printed as ``-``.

Usage:
    python benchmarks/bench_efficient.py                    # L = 512 ... 16384, 2 threads
    python benchmarks/bench_efficient.py --quick            # L = 256, 512, 1024: a smoke run
    python benchmarks/bench_efficient.py --lengths 512 8192 --threads 2 --repeats 3

Prints one row per L: milliseconds and peak extra MiB of each method, and tiled and naive time and
memory relative to SDPA; then the exponents p of fitted power laws ``cost ~ L^p`` (least squares
on log-log axes over the measured points). Writes nothing to disk.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

NUM_HEADS, HEAD_SIZE, BLOCK_SIZE = 8, 64, 512
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


def _call(method: str):
    """The function of (queries, keys, values) that ``method`` names."""
    import torch
    from torch.nn import functional as F

    from attention_utils import attention, flash_attention, linear_attention

    return {
        "naive": lambda q, k, v: attention(q, k, v, need_weights=True)[0],
        "tiled": lambda q, k, v: flash_attention(q, k, v, block_size=BLOCK_SIZE),
        "sdpa": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        "linear": lambda q, k, v: linear_attention(q, k, v),
    }[method], torch


def child(method: str, length: int, threads: int, repeats: int) -> None:
    """Measure one point in this (fresh) process and print it as JSON."""
    fn, torch = _call(method)
    torch.set_num_threads(threads)
    with torch.inference_mode():
        fn(*(torch.randn(1, NUM_HEADS, 64, HEAD_SIZE) for _ in range(3)))  # warm up kernels
        torch.manual_seed(0)
        q, k, v = (torch.randn(1, NUM_HEADS, length, HEAD_SIZE) for _ in range(3))
        _reset_peak()
        baseline, before = _status_bytes("VmRSS"), _status_bytes("VmHWM")
        out = fn(q, k, v)  # (1, num_heads, length, head_size)
        peak = _status_bytes("VmHWM")
        del out  # the call above was also the timing's warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(q, k, v)
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "seconds": statistics.median(times),
                "peak_extra_bytes": peak - baseline,
                "sound": before <= baseline + 2**20,  # the reset brought the high-water mark down
            }
        )
    )


def measure(method: str, length: int, threads: int, repeats: int) -> dict:
    """Run :func:`child` in a fresh interpreter and return its result."""
    command = [sys.executable, __file__, "--child", method, str(length), str(threads), str(repeats)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def machine_line(threads: int) -> str:
    """This machine's matrix-multiply rate and memory bandwidth, for the roofline argument."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    x = torch.randn(2**24)  # 64 MiB, far larger than any cache
    a @ b, x.clone()  # warm up
    flops = min(_seconds(lambda: a @ b) for _ in range(5))
    copy = min(_seconds(x.clone) for _ in range(5))
    return (
        f"machine: float32 matmul {2 * 1024**3 / flops / 1e9:.0f} GFLOP/s, "
        f"memory copy {2 * x.numel() * 4 / copy / 1e9:.1f} GB/s (read + write), "
        f"{threads} threads"
    )


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fitted_exponent(lengths: list[int], costs: list[float]) -> float:
    """Slope of the least-squares line through (log L, log cost)."""
    xs, ys = [math.log(n) for n in lengths], [math.log(c) for c in costs]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, length, threads, repeats = args.child
        child(method, int(length), int(threads), int(repeats))
        return
    lengths = args.lengths or (
        [256, 512, 1024] if args.quick else [512, 1024, 2048, 4096, 8192, 16384]
    )
    import torch

    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, float32, "
        f"forward, batch 1 x {NUM_HEADS} heads, head size {HEAD_SIZE}, tiles of {BLOCK_SIZE}, "
        f"fresh process per point; time = median, memory = peak RSS - baseline"
    )
    header = (
        f"{'L':>6} | {'naive ms':>9} {'tiled ms':>9} {'sdpa ms':>8} {'linear ms':>9} | "
        f"{'naive MiB':>9} {'tiled MiB':>9} {'sdpa MiB':>8} {'lin. MiB':>8} | "
        f"{'naive/sdpa t':>12} {'tiled/sdpa t':>12} {'tiled/naive mem':>15}"
    )
    print(machine_line(args.threads))
    print(header)
    results: dict[str, dict[int, dict]] = {m: {} for m in METHODS}
    for length in lengths:
        naive_bytes = 2 * NUM_HEADS * length * length * 4  # scores and weights, float32
        for method in METHODS:
            if method == "naive" and naive_bytes > available_bytes() / 2:
                continue
            repeats = args.repeats or (5 if length < 4096 else 3 if length < 8192 else 2)
            results[method][length] = measure(method, length, args.threads, repeats)

        def cell(method, key, scale, width, fmt):
            r = results[method].get(length)
            if r is None:
                return f"{'-':>{width}}"
            text = format(r[key] * scale, fmt) + ("" if r["sound"] else "*")
            return f"{text:>{width}}"

        def ratio(a, b, key, width):
            ra, rb = results[a].get(length), results[b].get(length)
            if ra is None or rb is None or rb[key] <= 0:
                return f"{'-':>{width}}"
            return f"{ra[key] / rb[key]:>{width}.2f}"

        print(
            f"{length:>6} | {cell('naive', 'seconds', 1e3, 9, '.1f')} "
            f"{cell('tiled', 'seconds', 1e3, 9, '.1f')} {cell('sdpa', 'seconds', 1e3, 8, '.1f')} "
            f"{cell('linear', 'seconds', 1e3, 9, '.1f')} | "
            f"{cell('naive', 'peak_extra_bytes', 2**-20, 9, '.0f')} "
            f"{cell('tiled', 'peak_extra_bytes', 2**-20, 9, '.0f')} "
            f"{cell('sdpa', 'peak_extra_bytes', 2**-20, 8, '.0f')} "
            f"{cell('linear', 'peak_extra_bytes', 2**-20, 8, '.0f')} | "
            f"{ratio('naive', 'sdpa', 'seconds', 12)} {ratio('tiled', 'sdpa', 'seconds', 12)} "
            f"{ratio('tiled', 'naive', 'peak_extra_bytes', 15)}",
            flush=True,
        )
    print("fitted exponents p in cost ~ L^p (least squares over the measured L):")
    for method in METHODS:
        points = results[method]
        if len(points) < 2:
            continue
        ls = sorted(points)
        p_time = fitted_exponent(ls, [points[n]["seconds"] for n in ls])
        mem = [max(points[n]["peak_extra_bytes"], 1) for n in ls]
        p_mem = fitted_exponent(ls, mem)
        print(
            f"  {method:>6}: time L^{p_time:.2f}, peak extra memory L^{p_mem:.2f} "
            f"(L = {ls[0]} to {ls[-1]})"
        )


if __name__ == "__main__":
    main()
