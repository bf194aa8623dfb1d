#!/usr/bin/env python3
"""One training iteration of the book's MNIST network, optimist beside torch, in one run.

The network of `cargo bench -p optimist-lab --bench mnist_iteration`: 784 -> 100 x4 -> 10,
ReLU, softmax with cross-entropy, He initialization, Adam (lr 0.001), batch 128, float32,
a new batch each iteration (synthetic images of MNIST's sparsity, 81% zeros). Runs the
optimist bench, then torch's loop (forward, backward, torch.optim.Adam with fused=True
and with its default), and prints the median ms per iteration of each and optimist's
time (all threads) over torch's.

Needs torch (not run in CI); from the repository's root:
    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy torch
    /tmp/peers/bin/python bench/mnist_peers.py
"""
import re
import statistics
import subprocess
import sys
import time

import torch

SIZES = [784, 100, 100, 100, 100, 10]
BATCH = 128
BATCHES = 50


def torch_ms(iterations=2000, **adam):
    g = torch.Generator().manual_seed(1)
    xs = [torch.rand(BATCH, SIZES[0], generator=g) * (torch.rand(BATCH, SIZES[0], generator=g) < 0.19)
          for _ in range(BATCHES)]
    ts = [torch.randint(0, 10, (BATCH,), generator=g) for _ in range(BATCHES)]
    layers = []
    for a, b in zip(SIZES, SIZES[1:]):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.normal_(lin.weight, std=(2.0 / a) ** 0.5)
        torch.nn.init.zeros_(lin.bias)
        layers += [lin, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=0.001, **adam)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for i in range(iterations):
        x, t = xs[i % BATCHES], ts[i % BATCHES]
        start = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(net(x), t)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def optimist_ms():
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "optimist-lab", "--bench", "mnist_iteration"],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(r"matrixmultiply, \d+ threads\s+([0-9.]+) ms/iteration", out)
    if not m:
        sys.exit(f"could not read optimist's time from:\n{out}")
    return float(m.group(1))


def main():
    ours = optimist_ms()
    fused = torch_ms(fused=True)
    default = torch_ms()
    print(f"MNIST network {SIZES}, batch {BATCH}, float32, Adam; torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); median ms per iteration (forward, backward, update)")
    print(f"optimist {ours:.3f}, torch (fused Adam) {fused:.3f}, torch (default Adam) {default:.3f}; "
          f"optimist over torch: {ours / fused:.2f} (fused), {ours / default:.2f} (default)")


if __name__ == "__main__":
    main()
