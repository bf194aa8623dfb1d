"""The article's script with its classes replaced by optimist's takes the same steps,
bit for bit, in float64."""
import itertools

import numpy as np
import pytest

import article_reference as ref
import optimist

# The article's optimizers with its race's rates, and the rest with the classes' own
# defaults and other values.
CASES = [
    ("SGD", {"lr": 0.95}),
    ("Momentum", {"lr": 0.1}),
    ("AdaGrad", {"lr": 1.5}),
    ("Adam", {"lr": 0.3}),
    ("SGD", {}),
    ("Momentum", {"lr": 0.05, "momentum": 0.7}),
    ("Nesterov", {"lr": 0.1}),
    ("Nesterov", {}),
    ("AdaGrad", {}),
    ("RMSprop", {"lr": 0.3}),
    ("RMSprop", {"lr": 0.05, "decay_rate": 0.9}),
    ("Adam", {}),
    ("Adam", {"lr": 0.1, "beta1": 0.8, "beta2": 0.99}),
]

STARTS = [(-7.0, 2.0), (-9.0, 4.0), (3.5, -1.25), (0.1, 0.3), (8.0, -6.0)]


def pair(name, kwargs):
    return getattr(ref, name)(**kwargs), getattr(optimist, name)(**kwargs)


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("start", STARTS)
def test_races_are_bit_identical(name, kwargs, start):
    reference, ours = pair(name, kwargs)
    want = ref.race(reference, start)
    got = ref.race(ours, start)
    # Exact: == on floats, every position of both coordinates.
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert all(type(v) is float for v in got[0])


def test_the_article_race_matches_and_lands_where_the_article_does():
    for name, kwargs in CASES[:4]:
        reference, ours = pair(name, kwargs)
        assert ref.race(ours) == ref.race(reference)
    # The article's Adam ends near the minimum; SGD's y flips sign every step.
    xs, ys = ref.race(optimist.Adam(lr=0.3))
    assert abs(ys[-1]) < 0.5
    xs, ys = ref.race(optimist.SGD(lr=0.95))
    assert all(a * b < 0 for a, b in zip(ys, ys[1:]))


@pytest.mark.parametrize("name,kwargs", CASES)
def test_arrays_of_any_shape_are_updated_in_place_bit_identically(name, kwargs):
    rng = np.random.default_rng(7)
    shapes = {"W1": (4, 3), "b1": (3,), "s": (), "T": (2, 3, 2)}
    start = {k: rng.standard_normal(s) for k, s in shapes.items()}
    reference, ours = pair(name, kwargs)
    p_ref = {k: v.copy() for k, v in start.items()}
    p_opt = {k: v.copy() for k, v in start.items()}
    ids = {k: id(v) for k, v in p_opt.items()}
    for step in range(25):
        grads = {k: np.sin(v * (step + 1)) + 0.1 * v for k, v in p_ref.items()}
        reference.update(p_ref, grads)
        ours.update(p_opt, {k: g.copy() for k, g in grads.items()})
        for k in shapes:
            assert np.array_equal(p_opt[k], p_ref[k]), (k, step)
    assert {k: id(v) for k, v in p_opt.items()} == ids  # in place
    assert ours.steps == 25


def test_float32_arrays_are_updated_in_float32():
    params = {"w": np.array([1.0, -2.0, 3.0], dtype=np.float32)}
    grads = {"w": np.array([0.5, 0.5, -1.0], dtype=np.float32)}
    opt = optimist.SGD(lr=0.1)
    opt.update(params, grads)
    assert params["w"].dtype == np.float32
    want = np.array([1.0, -2.0, 3.0], dtype=np.float32) - np.float32(0.1) * grads["w"]
    assert np.array_equal(params["w"], want)


def test_numpy_scalars_stay_numpy_scalars_and_any_mapping_works():
    from collections import OrderedDict

    params = OrderedDict([("y", np.float64(2.0)), ("x", np.float64(-7.0))])
    grads = {"x": -0.7, "y": 4}
    opt = optimist.SGD(lr=0.5)
    opt.update(params, grads)
    assert type(params["x"]) is np.float64 and params["x"] == -7.0 + 0.35
    assert params["y"] == 0.0
    assert list(params) == ["y", "x"]


def test_constructor_defaults_are_the_articles():
    assert optimist.SGD().hyperparameters == {"lr": 0.01}
    assert optimist.Momentum().hyperparameters == {"lr": 0.01, "momentum": 0.9}
    assert optimist.Nesterov().hyperparameters == {"lr": 0.01, "momentum": 0.9}
    assert optimist.AdaGrad().hyperparameters == {"lr": 0.01, "eps": 1e-7}
    assert optimist.RMSprop().hyperparameters == {"lr": 0.01, "decay_rate": 0.99, "eps": 1e-7}
    assert optimist.Adam().hyperparameters == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
    # Positional, as the article calls them.
    assert optimist.Momentum(0.2, 0.5).hyperparameters == {"lr": 0.2, "momentum": 0.5}


def test_docstrings_give_formula_and_paper():
    for cls in (optimist.SGD, optimist.Momentum, optimist.Nesterov, optimist.AdaGrad, optimist.RMSprop, optimist.Adam):
        assert "Update:" in cls.__doc__ and "Paper:" in cls.__doc__
    assert "Kingma" in optimist.Adam.__doc__ and "√v" in optimist.Adam.__doc__
