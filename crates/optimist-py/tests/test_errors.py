"""Bad input raises a clear Python exception and changes nothing; the GIL is released
while a step runs."""
import sys
import threading

import numpy as np
import pytest

import optimist


def arrays(dtype=np.float64):
    return {"w": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=dtype), "b": np.array([0.5, -0.5], dtype=dtype)}


def grads_like(params):
    return {k: np.full_like(v, 0.25) for k, v in params.items()}


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: optimist.SGD(lr=-0.1), "sgd: lr = -0.1 is out of range; allowed: lr > 0 and finite"),
        (lambda: optimist.Adam(beta1=1.0), "adam: beta1 = 1 is out of range; allowed: 0 <= beta1 < 1"),
        (lambda: optimist.SGD(lr=float("nan")), "sgd: lr = 'nan' is not a finite number"),
        (lambda: optimist.create("adamm"), "unknown optimizer 'adamm'"),
        (lambda: optimist.create("sgd:momentum=0.9"), "sgd has no hyperparameter 'momentum'"),
        (lambda: optimist.create("rmsporp"), "unknown optimizer 'rmsporp' (did you mean 'rmsprop'?)"),
        (lambda: optimist.create("adam:lrr=0.1"), "no hyperparameter 'lrr' (did you mean 'lr'?)"),
        (
            lambda: optimist.create("sgd:momentum=0.9"),
            "'momentum' is a hyperparameter of sgd in the pytorch convention (choose convention pytorch",
        ),
        (lambda: optimist.create("adam:lr"), "bad optimizer spec 'adam:lr'"),
        (lambda: optimist.create("adam", convention="keras"), "unknown convention 'keras'"),
        (lambda: optimist.create("adam", schedule="steplr"), "step_size is required"),
        (lambda: optimist.create("adam", clip="clip_grad_norm:max_norm=-1"), "max_norm = -1 is out of range"),
        (lambda: optimist.create("adam", groups=["*.bias"]), "it sets no hyperparameter"),
        (lambda: optimist.create("adam", nonfinite="ignore"), "refuse, skip or trust"),
    ],
)
def test_bad_hyperparameters_and_specs_are_value_errors_with_the_librarys_message(make, message):
    with pytest.raises(ValueError) as e:
        make()
    assert message in str(e.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimist.SGD(lr="0.1"),
        lambda: optimist.SGD(lr=True),
        lambda: optimist.Adam(beta1=None),
        lambda: optimist.create(3),
        lambda: optimist.create("adam", groups="*.bias:lr=1"),
        lambda: optimist.create("adam", convention=1),
    ],
)
def test_wrong_types_are_type_errors(make):
    with pytest.raises(TypeError):
        make()


def unchanged_after(update, params):
    before = {k: v.copy() for k, v in params.items()}
    update()
    for k in params:
        assert np.array_equal(params[k], before[k]), k


def test_bad_arrays_raise_and_nothing_is_updated():
    opt = optimist.Adam(lr=0.1)
    p = arrays()
    # Non-contiguous: a transposed view.
    bad = dict(p, w=np.asfortranarray(p["w"]).T.copy(order="F"))
    g = grads_like(p)
    with pytest.raises(ValueError, match="not C-contiguous"):
        opt.update(bad, g)
    # Read-only.
    ro = dict(p)
    ro["b"] = p["b"].copy()
    ro["b"].flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        unchanged_after(lambda: opt.update(ro, g), ro)
    # Shapes that differ.
    with pytest.raises(ValueError, match=r"gradient 'b' has shape \[3\] but the parameter has shape \[2\]"):
        unchanged_after(lambda: opt.update(p, dict(g, b=np.zeros(3))), p)
    # Dtypes that differ.
    with pytest.raises(TypeError, match="gradient 'w' is a numpy array of float32"):
        unchanged_after(lambda: opt.update(p, dict(g, w=g["w"].astype(np.float32))), p)
    # Integer arrays.
    with pytest.raises(TypeError, match="parameter 'w' is a numpy array of int64; expected a numpy array of float32 or float64"):
        opt.update({"w": np.ones(3, dtype=np.int64)}, {"w": np.ones(3, dtype=np.int64)})
    with pytest.raises(TypeError, match="numpy array of int64"):
        unchanged_after(lambda: opt.update(p, dict(g, b=np.ones(2, dtype=np.int64))), p)
    # The same array as parameter and gradient.
    with pytest.raises(ValueError, match="already in use|same array"):
        unchanged_after(lambda: opt.update(p, dict(g, b=p["b"])), p)
    # A list is not an array.
    with pytest.raises(TypeError, match="parameter 'w' is list"):
        opt.update({"w": [1.0, 2.0]}, {"w": [0.0, 0.0]})
    # None of that created state: the first good step is step 1.
    assert opt.steps == 0
    opt.update(p, g)
    assert opt.steps == 1


def test_mismatched_names_and_changed_tensors_are_value_errors():
    opt = optimist.SGD(lr=0.1)
    p = arrays()
    with pytest.raises(ValueError, match="no gradient for parameter 'b'"):
        opt.update(p, {"w": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="gradient 'z' has no parameter"):
        opt.update(p, dict(grads_like(p), z=np.zeros(1)))
    opt.update(p, grads_like(p))
    # A name seen for the first time gets fresh state, as in torch; a known name with
    # another shape is refused and changes nothing.
    q = dict(p, c=np.ones(1))
    opt.update(q, dict(grads_like(p), c=np.ones(1)))
    assert q["c"][0] == 0.9
    with pytest.raises(ValueError, match=r"parameter 'w' has shape \[4\] but its state has shape \[2, 2\]"):
        w4 = {"w": np.zeros(4)}
        opt.update(w4, {"w": np.ones(4)})
    assert not w4["w"].any()
    with pytest.raises(TypeError, match="state is for float64 tensors"):
        q = arrays(np.float32)
        opt.update(q, grads_like(q))
    with pytest.raises(TypeError, match="params must be a mapping"):
        opt.update([1.0], {"x": 1.0})
    with pytest.raises(TypeError, match="parameter 'x' is int"):
        opt.update({"x": 1}, {"x": 1.0})


def test_nonfinite_gradients_are_refused_or_skipped():
    p = arrays()
    g = grads_like(p)
    g["b"][1] = np.nan
    opt = optimist.Adam()
    with pytest.raises(ValueError, match=r"the gradient of 'b' holds NaN at element 1"):
        unchanged_after(lambda: opt.update(p, g), p)
    skip = optimist.Adam(nonfinite="skip")
    unchanged_after(lambda: skip.update(p, g), p)
    assert skip.skipped_steps == 1 and skip.steps == 0


def test_the_gil_is_released_while_a_step_runs():
    params = {"w": np.ones(8_000_000, dtype=np.float32)}
    grads = {"w": np.full(8_000_000, 0.5, dtype=np.float32)}
    opt = optimist.Adam()
    opt.update(params, grads)  # state created outside the measured step
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    old = sys.getswitchinterval()
    # The main thread gives up the GIL between bytecodes only after a second: any
    # count made during the step comes from the step releasing it.
    sys.setswitchinterval(1.0)
    t = threading.Thread(target=spin)
    try:
        t.start()
        while counter[0] == 0:
            pass
        before = counter[0]
        for _ in range(5):
            opt.update(params, grads)
        during = counter[0] - before
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert during > 0
