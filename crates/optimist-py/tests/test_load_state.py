"""A load_state_dict that fails changes nothing, and says what was wrong: corrupt engine
bytes, missing keys, wrong types; for the numpy API and for optimist.torch."""
import copy
import pickle

import numpy as np
import pytest

import optimist


def corrupt(state: bytes) -> bytes:
    """The bytes with one byte in the middle flipped (the checksum no longer holds)."""
    b = bytearray(state)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


# -- the numpy API --------------------------------------------------------------------


def np_params():
    return {"w": np.linspace(-1.0, 1.0, 12).reshape(3, 4), "b": np.array([0.5, -0.5])}


def np_run(opt, params, steps):
    for k in range(steps):
        opt.update(params, {n: np.cos(v + k) for n, v in params.items()})


def np_bad_dicts(good):
    def edit(f):
        d = copy.deepcopy(good)
        f(d)
        return d

    return {
        "corrupt bytes and another lr": (edit(lambda d: (d.update(state=corrupt(d["state"])), d["hyperparameters"].update(lr=0.5))), ValueError, "cannot load the optimizer state"),
        "no dtype": (edit(lambda d: d.pop("dtype")), ValueError, "has no 'dtype' entry"),
        "no hyperparameters": (edit(lambda d: d.pop("hyperparameters")), ValueError, "has no 'hyperparameters' entry"),
        "no config": (edit(lambda d: d.pop("config")), ValueError, "has no 'config' entry"),
        "no state": (edit(lambda d: d.pop("state")), ValueError, "not an optimist state dict"),
        "dtype of another kind": (edit(lambda d: d.update(dtype="int8")), ValueError, "'dtype' is 'int8'; expected None, 'float32' or 'float64'"),
        "hyperparameters a list": (edit(lambda d: d.update(hyperparameters=[1, 2])), TypeError, "'hyperparameters' is list"),
        "an lr out of range": (edit(lambda d: d["hyperparameters"].update(lr=-1.0)), ValueError, "lr = -1 is out of range"),
        "extra_passes negative": (edit(lambda d: d.update(extra_passes=-1)), ValueError, "'extra_passes' is -1"),
        "not a dict": ([("state", good["state"])], TypeError, "state_dict must be a dict"),
    }


@pytest.mark.parametrize("case", list(np_bad_dicts(optimist.Adam(lr=0.1).state_dict())))
def test_a_bad_numpy_state_dict_raises_and_changes_nothing(case):
    opt, twin = optimist.Adam(lr=0.1), optimist.Adam(lr=0.1)
    p, q = np_params(), np_params()
    np_run(opt, p, 3)
    np_run(twin, q, 3)
    bad, kind, message = np_bad_dicts(opt.state_dict())[case]
    before = pickle.dumps(opt.state_dict())
    with pytest.raises(kind, match=message):
        opt.load_state_dict(bad)
    assert pickle.dumps(opt.state_dict()) == before
    assert opt.lr == 0.1
    np_run(opt, p, 2)
    np_run(twin, q, 2)
    for k in p:
        assert np.array_equal(p[k], q[k]), k


# -- optimist.torch ---------------------------------------------------------------------

from torch_optional import needs_torch, torch  # noqa: E402


def torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()


def torch_run(model, opt, steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 4, generator=g, dtype=torch.float64)
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()


def torch_bad_dicts(good):
    def edit(f):
        d = copy.deepcopy(good)
        f(d)
        return d

    def bytes_(d):
        dtype, state = d["optimist"][0]["state"]
        d["optimist"][0]["state"] = (dtype, corrupt(state))
        d["param_groups"][0]["lr"] = 0.5

    return {
        "corrupt bytes and another lr": (edit(bytes_), ValueError, r"'optimist' entry 0: .*cannot load the optimizer state"),
        "no optimist entry": (edit(lambda d: d.pop("optimist")), ValueError, "not an optimist.torch state dict"),
        "no param_groups": (edit(lambda d: d.pop("param_groups")), ValueError, "has no 'param_groups' entry"),
        "no state": (edit(lambda d: d.pop("state")), ValueError, "has no 'state' entry"),
        "no applied": (edit(lambda d: d["optimist"][0].pop("applied")), ValueError, "'optimist' entry 0 has no 'applied' key"),
        "no engine state": (edit(lambda d: d["optimist"][0].pop("state")), ValueError, "'optimist' entry 0 has no 'state' key"),
        "engine state as text": (edit(lambda d: d["optimist"][0].update(state="text")), ValueError, r"'state' must be the pair \(dtype, bytes\)"),
        "applied too short": (edit(lambda d: d["optimist"][0].update(applied=(0.1,))), ValueError, "'applied' must hold the group's 5 hyperparameters"),
        "a group without lr": (edit(lambda d: d["param_groups"][0].pop("lr")), ValueError, "parameter group 0 of the state dict has no 'lr'"),
        "a group without params": (edit(lambda d: d["param_groups"][0].pop("params")), ValueError, "not a dict with a 'params' list"),
        "an engine for a group that is not there": (edit(lambda d: d["optimist"].update({3: d["optimist"][0]})), ValueError, "'optimist' entry 3: expected a parameter group's index, 0 to 0"),
        "two groups": (edit(lambda d: d["param_groups"].append(d["param_groups"][0])), ValueError, "has 2 parameter groups and this optimizer 1"),
        "an lr out of range": (edit(lambda d: d["param_groups"][0].update(lr=-1.0)), ValueError, "lr = -1 is out of range"),
        "param_groups a dict": (edit(lambda d: d.update(param_groups={})), TypeError, "'param_groups' is dict; expected a list"),
        "not a dict": (None, TypeError, "expected the dict state_dict\\(\\) returns, not NoneType"),
    }


@needs_torch
@pytest.mark.parametrize("case", [
    "corrupt bytes and another lr", "no optimist entry", "no param_groups", "no state", "no applied",
    "no engine state", "engine state as text", "applied too short", "a group without lr", "a group without params",
    "an engine for a group that is not there", "two groups", "an lr out of range", "param_groups a dict", "not a dict",
])
def test_a_bad_torch_state_dict_raises_and_changes_nothing(case):
    import optimist.torch as ot

    a, b = torch_model(), torch_model()
    oa = ot.SGD(a.parameters(), lr=0.1, momentum=0.9)
    ob = ot.SGD(b.parameters(), lr=0.1, momentum=0.9)
    torch_run(a, oa, 3)
    torch_run(b, ob, 3)
    bad, kind, message = torch_bad_dicts(oa.state_dict())[case]
    before = pickle.dumps(oa.state_dict())
    with pytest.raises(kind, match=message):
        oa.load_state_dict(bad)
    assert pickle.dumps(oa.state_dict()) == before
    assert oa.param_groups[0]["lr"] == 0.1
    torch_run(a, oa, 2, seed=2)
    torch_run(b, ob, 2, seed=2)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@needs_torch
def test_a_good_torch_state_dict_still_resumes_with_its_groups_values():
    import optimist.torch as ot

    a, b = torch_model(), torch_model()
    oa = ot.Adam(a.parameters(), lr=0.01)
    torch_run(a, oa, 3)
    sd = pickle.loads(pickle.dumps(oa.state_dict()))
    b.load_state_dict(a.state_dict())
    ob = ot.Adam(b.parameters(), lr=0.5)
    ob.load_state_dict(sd)
    assert ob.param_groups[0]["lr"] == 0.01
    torch_run(a, oa, 2, seed=2)
    torch_run(b, ob, 2, seed=2)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
