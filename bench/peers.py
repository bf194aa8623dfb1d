#!/usr/bin/env python3
"""optimist's Adam and SGD steps against their peers, side by side in one run.

Runs, at the benchmark's sizes (the book's network, 110 K parameters in ten tensors;
16 M; 64 M), float32:
  - the article's numpy code (Deep Learning from Scratch, chapter 6),
  - torch.optim with foreach=True and with fused=True (CPU), where torch is installed,
  - optax under jax.jit (buffers donated, so that it updates in place), where jax and
    optax are installed,
  - optimist, through `cargo bench -p optimist --bench step`: its default step (which
    checks the gradients for NaN and infinities first) and its unchecked step
    (NonFinite::Trust), which does what the peers do,
and prints ns per parameter, optimist's unchecked time over each peer's (x) and its checked
time over each peer's (c). Where the
Python package is installed (pip install ./crates/optimist-py) with torch, it then times
optimist.torch.Adam's step() beside torch.optim.Adam(fused=True) on the same tensors
(its default trusts the gradients, as torch does; nonfinite="refuse" checks them first), and the Python layer's overhead per
call: a step over one 1-element tensor.

Needs numpy (torch, jax and optax for their columns); not run in CI. In a virtual
environment, from the repository's root:
    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy torch jax optax
    /tmp/peers/bin/python bench/peers.py [110k] [16m] [64m] [adam] [sgd]
"""
import re
import subprocess
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # torch's columns are left out
    torch = None

try:  # the Python package: pip install ./crates/optimist-py
    import optimist.torch as optimist_torch
except ImportError:  # its row is left out
    optimist_torch = None

try:
    import jax
    import jax.numpy as jnp
    import optax
except ImportError:  # optax's column is left out
    jax = None

SIZES = {
    "110k": [(784, 100), (100,), (100, 100), (100,), (100, 100), (100,), (100, 100), (100,), (100, 10), (10,)],
    "16m": [(4096, 4096)],
    "64m": [(8192, 8192)],
}

# optimist's bench rows for each optimizer, and the learning rate used everywhere.
OPTIMIZERS = {"adam": ("adam:lr=0.001", 0.001), "sgd": ("sgd:lr=0.01", 0.01)}


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


class ArticleSGD:
    """The article's SGD, verbatim."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


def numpy_ns(opt, shapes):
    params = {f"t{i}": np.full(s, 0.5, dtype=np.float32) for i, s in enumerate(shapes)}
    grads = {k: np.full(v.shape, 0.01, dtype=np.float32) for k, v in params.items()}
    update = (ArticleAdam() if opt == "adam" else ArticleSGD()).update
    n = sum(v.size for v in params.values())
    return best_time(lambda: update(params, grads)) * 1e9 / n


def torch_ns(opt, shapes, **kw):
    params = [torch.full(s, 0.5, dtype=torch.float32, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.full(p.shape, 0.01, dtype=torch.float32)
    lr = OPTIMIZERS[opt][1]
    try:
        o = torch.optim.Adam(params, lr=lr, **kw) if opt == "adam" else torch.optim.SGD(params, lr=lr, **kw)
    except (RuntimeError, ValueError):  # e.g. no fused SGD in this torch
        return float("nan")
    n = sum(p.numel() for p in params)
    with torch.no_grad():
        return best_time(o.step) * 1e9 / n


def optax_ns(opt, shapes):
    lr = OPTIMIZERS[opt][1]
    tx = optax.adam(lr) if opt == "adam" else optax.sgd(lr)
    params = [jnp.full(s, 0.5, dtype=jnp.float32) for s in shapes]
    grads = [jnp.full(s, 0.01, dtype=jnp.float32) for s in shapes]
    state = tx.init(params)

    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    step = jax.jit(step, donate_argnums=(0, 1))
    box = [params, state]

    def run():
        box[0], box[1] = step(box[0], box[1], grads)
        jax.block_until_ready(box[0])

    n = sum(int(np.prod(s)) for s in shapes)
    return best_time(run) * 1e9 / n


def torch_step_ns(cls, shapes, **kw):
    """ns per parameter of `cls(params, lr=0.001, **kw).step()` on float32 tensors."""
    params = [torch.full(s, 0.5, dtype=torch.float32, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.full(p.shape, 0.01, dtype=torch.float32)
    o = cls(params, lr=0.001, **kw)
    n = sum(p.numel() for p in params)
    return best_time(o.step) * 1e9 / n


def python_rows(sizes):
    """optimist.torch.Adam against torch.optim.Adam(fused=True), and the overhead of a call."""
    print()
    print(f"optimist.torch.Adam step() against torch.optim.Adam(fused=True), float32, ns per parameter "
          f"(x: optimist's time over torch's)")
    print(f"{'size':<5} {'optimist.torch':>15} {'checked':>9} {'torch fused':>12} {'x':>6} {'x checked':>10}")
    for size in sizes:
        ours = torch_step_ns(optimist_torch.Adam, SIZES[size])
        checked = torch_step_ns(optimist_torch.Adam, SIZES[size], nonfinite="refuse")
        fused = torch_step_ns(torch.optim.Adam, SIZES[size], fused=True)
        print(f"{size:<5} {ours:>15.3f} {checked:>9.3f} {fused:>12.3f} {ours / fused:>6.2f} {checked / fused:>10.2f}")
    one = [(1,)]
    ours = torch_step_ns(optimist_torch.Adam, one) / 1e3
    fused = torch_step_ns(torch.optim.Adam, one, fused=True) / 1e3
    print(f"one call over one 1-element tensor: optimist.torch.Adam {ours:.2f} µs, "
          f"torch.optim.Adam(fused=True) {fused:.2f} µs")


def optimist_ns(size, opt):
    spec = OPTIMIZERS[opt][0]
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "optimist", "--bench", "step", "--", size, spec.split(":")[0] + ":"],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(rf"^{re.escape(spec)}\s+([0-9.]+)\s+([0-9.]+)", out, re.M)
    if not m:
        sys.exit(f"could not read optimist's {spec} row from:\n{out}")
    return float(m.group(1)), float(m.group(2))


def main():
    args = sys.argv[1:]
    sizes = [a for a in args if a in SIZES] or list(SIZES)
    opts = [a for a in args if a in OPTIMIZERS] or list(OPTIMIZERS)
    print("float32, ns per parameter; " + ", ".join([
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "torch not installed",
        f"jax {jax.__version__} / optax {optax.__version__}" if jax else "optax not installed",
        f"numpy {np.__version__}",
    ]))
    print("optimist: its default step (gradients checked) / unchecked (as the peers run); "
          "x: optimist's unchecked time over the peer's, c: its checked time over the peer's "
          "(below 1: optimist is faster)")
    head = ["numpy", "foreach", "fused", "optax"]
    print(f"{'':<5} {'size':<5} {'checked':>8} {'optimist':>9} " + " ".join(f"{h:>9}" for h in head)
          + "   " + " ".join(f"{'x ' + h:>9}" for h in head)
          + "   " + " ".join(f"{'c ' + h:>9}" for h in head))
    for opt in opts:
        for size in sizes:
            shapes = SIZES[size]
            checked, ours = optimist_ns(size, opt)
            nan = float("nan")
            peers = [
                numpy_ns(opt, shapes),
                torch_ns(opt, shapes, foreach=True) if torch else nan,
                torch_ns(opt, shapes, fused=True) if torch else nan,
                optax_ns(opt, shapes) if jax else nan,
            ]
            print(f"{opt:<5} {size:<5} {checked:>8.3f} {ours:>9.3f} " + " ".join(f"{p:>9.3f}" for p in peers)
                  + "   " + " ".join(f"{ours / p:>9.2f}" for p in peers)
                  + "   " + " ".join(f"{checked / p:>9.2f}" for p in peers))
    if optimist_torch is not None and torch is not None and "adam" in opts:
        python_rows(sizes)


if __name__ == "__main__":
    main()
