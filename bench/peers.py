#!/usr/bin/env python3
"""optimist's Adam (and SGD) step against its peers, side by side in one run.

Runs, at the benchmark's sizes (the book's network, 110 K parameters in ten tensors;
16 M; 64 M), float32:
  - the article's numpy Adam (Deep Learning from Scratch, chapter 6),
  - torch.optim.Adam with foreach=True and with fused=True (CPU), where torch is installed,
  - optimist, through `cargo bench -p optimist --bench step`,
and prints ns per parameter and optimist's time over each peer's.

Needs numpy (and torch for its rows); not run in CI. From the repository's root:
    python3 bench/peers.py [110k] [16m] [64m]
"""
import re
import subprocess
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # torch's rows are left out
    torch = None

SIZES = {
    "110k": [(784, 100), (100,), (100, 100), (100,), (100, 100), (100,), (100, 100), (100,), (100, 10), (10,)],
    "16m": [(4096, 4096)],
    "64m": [(8192, 8192)],
}


def best_time(f, budget=0.6):
    f()
    best, start, runs = float("inf"), time.perf_counter(), 0
    while runs < 3 or (time.perf_counter() - start < budget and runs < 10000):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return best


class ArticleAdam:
    """The article's Adam, verbatim but for float32 arrays."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


def numpy_ns(shapes):
    params = {f"t{i}": np.full(s, 0.5, dtype=np.float32) for i, s in enumerate(shapes)}
    grads = {k: np.full(v.shape, 0.01, dtype=np.float32) for k, v in params.items()}
    opt = ArticleAdam()
    n = sum(v.size for v in params.values())
    return best_time(lambda: opt.update(params, grads)) * 1e9 / n


def torch_ns(shapes, **kw):
    params = [torch.full(s, 0.5, dtype=torch.float32, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.full(p.shape, 0.01, dtype=torch.float32)
    opt = torch.optim.Adam(params, lr=0.001, **kw)
    n = sum(p.numel() for p in params)
    with torch.no_grad():
        return best_time(opt.step) * 1e9 / n


def optimist_ns(size):
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "optimist", "--bench", "step", "--", size, "adam:lr"],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(r"^adam:lr=0\.001\s+([0-9.]+)", out, re.M)
    if not m:
        sys.exit(f"could not read optimist's Adam row from:\n{out}")
    return float(m.group(1))


def main():
    sizes = sys.argv[1:] or list(SIZES)
    print(f"Adam, float32, ns per parameter (torch {torch.__version__ if torch else 'not installed'}, "
          f"{torch.get_num_threads() if torch else '-'} threads; numpy {np.__version__})")
    print(f"{'size':<6} {'optimist':>9} {'numpy':>9} {'foreach':>9} {'fused':>9}   optimist's time over: numpy, foreach, fused")
    for size in sizes:
        shapes = SIZES[size]
        ours = optimist_ns(size)
        peers = [numpy_ns(shapes)]
        if torch:
            peers += [torch_ns(shapes, foreach=True), torch_ns(shapes, fused=True)]
        else:
            peers += [float("nan"), float("nan")]
        ratios = ", ".join(f"{ours / p:.2f}" for p in peers)
        print(f"{size:<6} {ours:>9.3f} " + " ".join(f"{p:>9.3f}" for p in peers) + f"   {ratios}")


if __name__ == "__main__":
    main()
