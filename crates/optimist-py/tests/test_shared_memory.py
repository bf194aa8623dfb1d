"""Parameters that share memory (views of one buffer, tied weights) are stepped one
after the other, as torch's loop over parameters steps them: no update is lost to
two threads writing the same elements. Sizes are large enough for the engine to
share a step among threads."""

import numpy as np
import pytest

import optimist

N = 4 << 20  # 4M elements: a step the engine cuts into pieces for several threads


def over_one_buffer(n=N, offset=0, dtype=np.float32):
    """Two arrays of n elements over one bytearray, the second starting `offset`
    elements after the first (0: the same elements)."""
    size = np.dtype(dtype).itemsize
    buf = bytearray((n + offset) * size)
    a = np.frombuffer(buf, dtype=dtype, count=n)
    b = np.frombuffer(buf, dtype=dtype, count=n, offset=offset * size)
    assert a.flags.writeable and b.flags.writeable and np.shares_memory(a, b)
    return buf, a, b


def test_two_numpy_arrays_over_one_bytearray_take_both_updates():
    buf, a, b = over_one_buffer()
    opt = optimist.SGD(lr=1.0)
    g = np.ones(N, np.float32)
    # Each step subtracts 1 twice from every element, as torch does. Two threads
    # stepping a and b at once lost some: 48 elements at -5 instead of -6 after the
    # third step here. The race is rare, so the test takes many steps.
    for k in range(1, 41):
        opt.update({"a": a, "b": b}, {"a": g, "b": g})
        assert np.count_nonzero(a != -2.0 * k) == 0, f"step {k}"
    assert opt.steps == 40


def test_half_overlapping_arrays_are_stepped_in_order():
    # b starts half-way into a: the shared half takes both updates, the rest one.
    half = N // 2
    buf, a, b = over_one_buffer(offset=half)
    ga, gb = np.full(N, 1.0, np.float32), np.full(N, 2.0, np.float32)
    optimist.SGD(lr=1.0).update({"a": a, "b": b}, {"a": ga, "b": gb})
    whole = np.frombuffer(buf, dtype=np.float32)
    assert np.array_equal(whole[:half], np.full(half, -1.0, np.float32))
    assert np.array_equal(whole[half:N], np.full(N - half, -3.0, np.float32))
    assert np.array_equal(whole[N:], np.full(half, -2.0, np.float32))


def test_shared_memory_with_adam_matches_the_same_steps_taken_one_after_the_other():
    # Adam's update of b reads what a's update wrote: the same numbers as two
    # optimizers stepping a copy in turn.
    buf, a, b = over_one_buffer(dtype=np.float64)
    rng = np.random.default_rng(3)
    a[:] = rng.standard_normal(N)
    x = a.copy()
    shared, one, two = optimist.Adam(lr=0.1), optimist.Adam(lr=0.1), optimist.Adam(lr=0.1)
    for _ in range(3):
        ga, gb = rng.standard_normal(N), rng.standard_normal(N)
        shared.update({"a": a, "b": b}, {"a": ga, "b": gb})
        one.update({"x": x}, {"x": ga})
        two.update({"x": x}, {"x": gb})
    assert np.array_equal(a, x)


def test_a_refused_or_clipped_step_over_shared_memory_changes_nothing():
    buf, a, b = over_one_buffer(n=1000)
    g = np.ones(1000, np.float32)
    bad = g.copy()
    bad[7] = np.nan
    opt = optimist.SGD(lr=1.0)
    with pytest.raises(ValueError, match="the gradient of 'b' holds NaN at element 7"):
        opt.update({"a": a, "b": b}, {"a": g, "b": bad})
    assert not a.any() and opt.steps == 0
    skip = optimist.SGD(lr=1.0, nonfinite="skip")
    skip.update({"a": a, "b": b}, {"a": g, "b": bad})
    assert not a.any() and skip.skipped_steps == 1
    clipped = optimist.SGD(lr=1.0, clip="clip_grad_norm:max_norm=1")
    with pytest.raises(ValueError, match="parameters 'a' and 'b' share memory.*clip"):
        clipped.update({"a": a, "b": b}, {"a": g, "b": g})
    assert not a.any()
    # A read-only view in the second pass fails before the first pass runs.
    b.flags.writeable = False
    with pytest.raises(ValueError, match="parameter 'b' is read-only"):
        opt.update({"a": a, "b": b}, {"a": g, "b": g})
    assert not a.any()


def test_a_gradient_in_a_parameters_memory_is_refused():
    buf, a, b = over_one_buffer(n=1000)
    p = np.zeros(1000, np.float32)
    with pytest.raises(ValueError, match="gradient 'p' shares memory with parameter 'a'"):
        optimist.SGD(lr=1.0).update({"a": a, "p": p}, {"a": np.ones(1000, np.float32), "p": b})
    assert not a.any() and not p.any()


def test_a_resumed_run_over_shared_memory_counts_its_steps():
    buf, a, b = over_one_buffer(n=100)
    g = {"a": np.ones(100, np.float32), "b": np.ones(100, np.float32)}
    opt = optimist.Adam(lr=0.1)
    opt.update({"a": a, "b": b}, g)
    again = optimist.Adam(lr=0.1)
    again.load_state_dict(opt.state_dict())
    assert opt.steps == again.steps == 1
    opt.update({"a": a, "b": b}, g)
    assert opt.steps == 2


from torch_optional import needs_torch, torch  # noqa: E402


@needs_torch
@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 1.0}), ("Adam", {"lr": 0.1})])
def test_tied_torch_parameters_take_torchs_steps(name, kwargs):
    import optimist.torch as ot

    def tied(cls):
        base = torch.zeros(N)
        p1, p2 = torch.nn.Parameter(base), torch.nn.Parameter(base)
        assert p1.data_ptr() == p2.data_ptr()
        return p1, p2, cls([p1, p2], **kwargs)

    ours, theirs = tied(getattr(ot, name)), tied(getattr(torch.optim, name))
    g = torch.Generator().manual_seed(1)
    # The race that lost updates is rare (64 elements at -1 instead of -2 after the
    # first step here): SGD takes many steps, each checked.
    for k in range(1, 41 if name == "SGD" else 4):
        g1 = torch.ones(N) if name == "SGD" else torch.randn(N, generator=g)
        g2 = torch.ones(N) if name == "SGD" else torch.randn(N, generator=g)
        for p1, p2, opt in (ours, theirs):
            p1.grad, p2.grad = g1.clone(), g2.clone()
            opt.step()
        a, b = ours[0].detach(), theirs[0].detach()
        if name == "SGD":
            # Two updates of -1 a step: exactly -2k everywhere, as in torch.
            assert torch.equal(b, torch.full((N,), -2.0 * k))
            assert torch.equal(a, b), f"step {k}: {int((a != b).sum())} elements differ"
        else:
            assert torch.allclose(a, b, rtol=1e-5, atol=1e-6), f"step {k}"
