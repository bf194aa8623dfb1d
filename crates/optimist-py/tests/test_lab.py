"""optimist.compare and optimist.train: the lab's races, figures and network
experiment from Python."""
import gzip
import struct

import numpy as np
import pytest

import article_reference as ref
import optimist


def test_compare_returns_each_trajectory_as_an_array():
    r = optimist.compare(function="rosenbrock", optimizers=["adam:lr=0.05", "sgd:lr=0.001", "sgd:lr=0.5"], start=(-2, 2), steps=300)
    adam, slow, fast = r.runs
    assert adam.trajectory.shape == (301, 3) and adam.trajectory.dtype == np.float64
    assert adam.status == "finished" and not adam.diverged
    assert tuple(adam.trajectory[0, :2]) == (-2.0, 2.0)
    # The loss column is f at (x, y): Rosenbrock's (1 − x)² + 100(y − x²)².
    x, y, loss = adam.trajectory.T
    assert np.allclose(loss, (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, rtol=1e-12)
    assert loss[-1] < loss[0]
    # SGD at lr 0.5 blows up on Rosenbrock: reported as diverged, its finite rows kept.
    assert fast.diverged and fast.status.startswith("diverged at step")
    assert len(fast.trajectory) == fast.diverged_at
    assert set(r.trajectories) == {"adam:lr=0.05", "sgd:lr=0.001", "sgd:lr=0.5"}


def test_compare_on_the_article_is_the_articles_race_bit_for_bit():
    r = optimist.compare()
    assert [run.spec for run in r.runs] == ["sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3"]
    for run, cls, lr in zip(r.runs, [ref.SGD, ref.Momentum, ref.AdaGrad, ref.Adam], [0.95, 0.1, 1.5, 0.3]):
        xs, ys = ref.race(cls(lr=lr))
        assert list(run.x) == xs and list(run.y) == ys


def test_compare_takes_formulas_tuning_and_rejects_bad_input():
    r = optimist.compare(function="x^2/20 + y^2", optimizers=["adam:lr=0.3"], start=(-7, 2), steps=30, window=(-10, 10, -10, 10))
    assert np.array_equal(r.runs[0].trajectory, optimist.compare(optimizers=["adam:lr=0.3"]).runs[0].trajectory)
    tuned = optimist.compare(function="rosenbrock", optimizers=["sgd"], steps=200, tune=True)
    assert tuned.runs[0].spec.startswith("sgd:lr=") and not tuned.runs[0].diverged
    with pytest.raises(ValueError, match="neither a built-in landscape"):
        optimist.compare(function="rosenbrok")
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        optimist.compare(optimizers=["adamm"])
    with pytest.raises(ValueError, match="not finite at the start"):
        optimist.compare(function="log(x) + y^2", start=(-1, 0))
    with pytest.raises(ValueError, match="out of range"):
        optimist.compare(steps=0)
    with pytest.raises(TypeError):
        optimist.compare(steps=1.5)


def test_figures_show_inline_and_save_in_every_format(tmp_path):
    r = optimist.compare(function="himmelblau", optimizers=["adam:lr=0.1", "momentum:lr=0.01"], steps=50)
    for view in ["grid", "overlay", "loss"]:
        png = r.figure(view)._repr_png_()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
        assert r.figure(view, format="svg")._repr_svg_().lstrip().startswith("<svg")
    assert r._repr_png_() == r.figure("grid").data
    for name, magic in [("a.png", b"\x89PNG"), ("b.svg", b"<svg"), ("c.gif", b"GIF89a"), ("d.html", b"<!doctype html")]:
        path = r.save(tmp_path / name, view="overlay" if name.endswith((".png", ".svg")) else None)
        assert path.read_bytes().lstrip()[: len(magic)] == magic, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.svg", "c.gif", "d.html"]
    with pytest.raises(ValueError, match="unknown view"):
        r.figure("contour")
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.gif or \.html"):
        r.save(tmp_path / "e.jpg")
    assert r.csv().startswith("optimizer,step,x,y,loss\n")


def write_idx(path, magic, dims, data):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data.tobytes())


def small_mnist(dir, n=300, seed=0):
    """A learnable MNIST-shaped set: each class a bright block in its own place."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        images[i, 2 * c : 2 * c + 6, 4:24] = 250
    write_idx(dir / "t10k-images-idx3-ubyte.gz", 0x803, (n, 28, 28), images)
    write_idx(dir / "t10k-labels-idx1-ubyte.gz", 0x801, (n,), labels)


def test_train_returns_each_optimizers_loss_curve(tmp_path):
    small_mnist(tmp_path)
    r = optimist.train(["sgd:lr=0.01", "adam:lr=0.001"], data=tmp_path, iterations=60, batch_size=32, hidden=[32, 32], seed=7)
    assert [run.spec for run in r.runs] == ["sgd:lr=0.01", "adam:lr=0.001"]
    for run in r.runs:
        assert run.losses.shape == (60,) and run.losses.dtype == np.float32
        assert run.smoothed.shape[0] > 0 and np.isfinite(run.losses).all()
        assert run.losses[-10:].mean() < run.losses[:10].mean()
    assert r.runs[1].accuracy > 0.5
    assert r.sizes == [784, 32, 32, 10] and r.eval_set == "held-out" and r.train_size == 240
    assert "training files" in r.note
    assert r._repr_png_().startswith(b"\x89PNG")
    # The same seed repeats the run exactly.
    again = optimist.train(["adam:lr=0.001"], data=tmp_path, iterations=60, batch_size=32, hidden=[32, 32], seed=7)
    assert np.array_equal(again.runs[0].losses, r.runs[1].losses)
    with pytest.raises(ValueError, match="no such folder"):
        optimist.train(data=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimist.train(["adamm"], data=tmp_path)


def test_the_notebook_runs(tmp_path, monkeypatch):
    import pathlib
    import runpy

    notebook = pathlib.Path(__file__).parent.parent / "examples" / "article.py"
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(notebook), run_name="__main__")
    assert (tmp_path / "rosenbrock.gif").read_bytes().startswith(b"GIF89a")
    assert (tmp_path / "rosenbrock.html").stat().st_size > 10_000


def test_a_race_too_large_for_memory_is_refused_before_it_starts():
    import time

    # The race: 40 optimizers × 10,000,001 points, about 38 GB; the default
    # limit is half this machine's memory, as on the command line.
    start = time.monotonic()
    with pytest.raises(MemoryError, match=r"this run would take about 38.4 GB \(40 optimizers × 10000001 points × 96 bytes\), more than the limit of .* \(half this machine's .*\); lower steps or the number of optimizers, or raise the limit with memory_limit="):
        optimist.compare("rosenbrock", optimizers=["sgd:lr=1e-9"] * 40, steps=10_000_000)
    assert time.monotonic() - start < 5
    # A limit in bytes or as a size, named in the message.
    with pytest.raises(MemoryError, match=r"about 7.7 GB \(8 optimizers × 10000001 points × 96 bytes\), more than the limit of 1.1 GB \(memory_limit\)"):
        optimist.compare("rosenbrock", optimizers=["sgd:lr=1e-9"] * 8, steps=10_000_000, memory_limit="1G")
    with pytest.raises(MemoryError, match=r"more than the limit of 1.0 KB \(memory_limit\)"):
        optimist.compare("rosenbrock", optimizers=["sgd:lr=1e-9"], steps=100, memory_limit=1000)
    # Under the limit the race runs: 101 points × 96 bytes fit in 10 KB.
    r = optimist.compare("rosenbrock", optimizers=["sgd:lr=1e-9"], steps=100, memory_limit=10_000)
    assert r.runs[0].trajectory.shape == (101, 3)
    for bad, kind, message in [
        ("lots", ValueError, "memory_limit: 'lots' is not a size such as 8G, 512M or 1000000"),
        (0, ValueError, "memory_limit = 0 is out of range"),
        (-5, ValueError, "memory_limit = -5 is out of range"),
        (True, TypeError, "memory_limit must be a number of bytes or a size such as '8G', not a bool"),
        (1.5, TypeError, "memory_limit must be a number of bytes \\(an int\\) or a size such as '8G', not a float"),
    ]:
        with pytest.raises(kind, match=message):
            optimist.compare("rosenbrock", optimizers=["sgd:lr=0.01"], steps=10, memory_limit=bad)


def test_a_network_too_large_for_memory_is_refused_before_training(tmp_path):
    small_mnist(tmp_path)
    # 784 → 20,000 → 10: 15.9M parameters × 16 bytes, plus the batch's activations.
    with pytest.raises(MemoryError, match=r"this run would take about .* \(1 optimizer × \(15900010 parameters × 16 bytes \+ 32 images × 20794 units × 16 bytes\)\), more than the limit of 104.9 MB \(memory_limit\); lower hidden, batch_size or the number of optimizers"):
        optimist.train(["sgd:lr=0.01"], data=tmp_path, iterations=5, batch_size=32, hidden=[20_000], memory_limit="100M")
    r = optimist.train(["sgd:lr=0.01"], data=tmp_path, iterations=5, batch_size=32, hidden=[16], memory_limit="100M")
    assert r.runs[0].losses.shape == (5,)
