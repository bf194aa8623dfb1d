"""Every optimizer by spec, its description, the wrappings and state: create(),
optimizers(), schedules, clipping, groups, the non-finite policy, state_dict()."""
import pickle

import numpy as np
import pytest

import article_reference as ref
import optimist


def params(seed=0):
    rng = np.random.default_rng(seed)
    return {"fc.weight": rng.standard_normal((5, 4)), "fc.bias": rng.standard_normal(4)}


def grad_at(p, step):
    return {k: np.cos(v + 0.1 * step) for k, v in p.items()}


def run(opt, p, steps, start=0):
    for s in range(start, start + steps):
        opt.update(p, grad_at(p, s))
    return p


def test_optimizers_describes_every_optimizer():
    infos = optimist.optimizers()
    names = {(i["name"], i["convention"]) for i in infos}
    for want in [("adam", "article"), ("adamw", "pytorch"), ("lion", "optax"), ("muon", "pytorch"), ("schedule_free_adamw", "optax")]:
        assert want in names
    adamw = next(i for i in infos if i["name"] == "adamw")
    assert "Loshchilov" in adamw["paper"] and "weight_decay" in adamw["formula"]
    wd = next(k for k in adamw["hyperparameters"] if k["name"] == "weight_decay")
    assert wd["default"] == 0.01 and wd["range"] == "weight_decay >= 0 and finite" and wd["doc"]
    betas = next(k for k in adamw["hyperparameters"] if k["name"] == "betas")
    assert betas["default"] == (0.9, 0.999)
    assert {i["convention"] for i in optimist.optimizers("optax")} == {"optax"}
    with pytest.raises(ValueError, match="unknown convention"):
        optimist.optimizers("keras")
    assert any(s["name"] == "cosineannealinglr" for s in optimist.schedules())


def test_create_every_optimizer_and_step():
    for info in optimist.optimizers():
        opt = optimist.create(info["name"], convention=info["convention"])
        assert opt.name == info["name"]
        p = {"m": np.ones((3, 3)), "v": np.ones(3)} if info["name"] != "muon" else {"m": np.eye(3) + 0.5}
        before = {k: v.copy() for k, v in p.items()}
        opt.update(p, {k: np.full_like(v, 0.5) for k, v in p.items()})
        assert any(not np.array_equal(p[k], before[k]) for k in p), info["name"]


def test_create_means_the_article_by_default_and_torch_under_pytorch():
    a = optimist.create("adam:lr=0.3")
    assert a.hyperparameters == optimist.Adam(lr=0.3).hyperparameters
    t = optimist.create("adam:lr=1e-3,betas=0.9/0.99", convention="pytorch")
    assert t.hyperparameters["betas"] == (0.9, 0.99)
    w = optimist.create("adamw:lr=1e-3,weight_decay=0.01", convention="pytorch")
    assert w.hyperparameters["weight_decay"] == 0.01 and w.lr == 1e-3
    # The same rule as the article's class, by spec: the same bits.
    p1, p2 = params(), params()
    run(optimist.create("rmsprop:lr=0.05,decay_rate=0.9"), p1, 10)
    run(ref.RMSprop(lr=0.05, decay_rate=0.9), p2, 10)
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)


def test_a_schedule_sets_each_steps_learning_rate():
    # StepLR halving every 2 steps on SGD: the same as SGD with the rate changed by hand.
    p1, p2 = params(), params()
    opt = optimist.SGD(lr=0.4, schedule="steplr:step_size=2,gamma=0.5")
    hand = optimist.SGD(lr=0.4)
    for s in range(6):
        hand.lr = 0.4 * 0.5 ** (s // 2)
        hand.update(p2, grad_at(p2, s))
        opt.update(p1, grad_at(p1, s))
        assert all(np.array_equal(p1[k], p2[k]) for k in p1)
    assert opt.lr == 0.4 * 0.5 ** 3


def test_clipping_clips_a_copy_and_groups_set_other_hyperparameters():
    p = {"w": np.zeros(2)}
    g = {"w": np.array([3.0, 4.0])}
    opt = optimist.SGD(lr=1.0, clip="clip_grad_norm:max_norm=1")
    opt.update(p, g)
    assert np.allclose(p["w"], [-0.6, -0.8], atol=1e-6) and np.array_equal(g["w"], [3.0, 4.0])
    p = params()
    before = {k: v.copy() for k, v in p.items()}
    opt = optimist.create("adamw:lr=0.1,weight_decay=0.5", convention="pytorch", groups=["*.bias:weight_decay=0"])
    opt.update(p, {k: np.zeros_like(v) for k, v in p.items()})
    assert np.array_equal(p["fc.bias"], before["fc.bias"])
    assert np.allclose(p["fc.weight"], before["fc.weight"] * 0.95)


def test_hyperparameters_change_between_steps():
    opt = optimist.create("adam:lr=0.1,betas=0.9/0.999", convention="pytorch")
    opt.set_hyperparameter("betas", (0.8, 0.99))
    assert opt.hyperparameters["betas"] == (0.8, 0.99)
    with pytest.raises(ValueError, match="out of range"):
        opt.set_hyperparameter("betas", (1.5, 0.99))
    with pytest.raises(TypeError):
        opt.set_hyperparameter("betas", "0.8/0.9")
    opt.lr = 0.0
    assert opt.lr == 0.0
    opt.nonfinite = "skip"
    assert opt.nonfinite == "skip"


@pytest.mark.parametrize(
    "spec,options",
    [
        ("adam:lr=0.3", {}),
        ("nesterov:lr=0.1", {}),
        ("nadam:lr=0.01", {"convention": "pytorch"}),
        ("adamw:lr=0.01", {"convention": "pytorch", "groups": ["*.bias:weight_decay=0"]}),
        ("adafactor", {"convention": "pytorch"}),
        ("schedule_free_adamw:learning_rate=0.01", {}),
        ("sgd:lr=0.1,momentum=0.9", {"convention": "pytorch", "schedule": "cosineannealinglr:T_max=20", "clip": "clip_grad_norm:max_norm=1"}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_resume_from_state_dict_is_bit_identical(spec, options, dtype):
    straight = {k: v.astype(dtype) for k, v in params(3).items()}
    opt = optimist.create(spec, **options)
    run(opt, straight, 12)

    resumed = {k: v.astype(dtype) for k, v in params(3).items()}
    first = optimist.create(spec, **options)
    run(first, resumed, 5)
    saved = pickle.loads(pickle.dumps(first.state_dict()))
    second = optimist.create(spec, **options)
    second.load_state_dict(saved)
    assert second.steps == 5
    run(second, resumed, 7, start=5)
    for k in straight:
        assert np.array_equal(straight[k], resumed[k]), k
    # The optimizer itself pickles, state included.
    third = pickle.loads(pickle.dumps(first))
    assert third.steps == 5 and third.state_dict()["state"] == first.state_dict()["state"]


def test_a_state_dict_of_another_optimizer_is_refused_and_changes_nothing():
    a = optimist.Adam(lr=0.3)
    run(a, params(), 2)
    b = optimist.Adam(lr=0.1)
    with pytest.raises(ValueError, match="another optimizer"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="not an optimist state dict"):
        b.load_state_dict({"state": b"garbage"})
    bad = dict(optimist.Adam(lr=0.1).state_dict(), state=b"OPTIMIST garbage")
    with pytest.raises(ValueError, match="cannot load the optimizer state"):
        b.load_state_dict(bad)
    assert b.steps == 0
