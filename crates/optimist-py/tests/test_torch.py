"""optimist.torch: drop-in torch.optim optimizers, held to torch's own results."""
import os
import pickle

import pytest

# Outside CI the torch tests skip without torch; in CI the import fails them.
torch = __import__("torch") if os.environ.get("CI") else pytest.importorskip("torch")
import optimist.torch as ot  # noqa: E402


def mlp(dtype, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
    ).to(dtype)


def batches(dtype, n=200, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(32, 8, generator=g, dtype=dtype), torch.randint(0, 3, (32,), generator=g)) for _ in range(n)]


def train(model, opt, data, scheduler=None):
    loss_fn = torch.nn.CrossEntropyLoss()
    for x, t in data:
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return [p.detach().clone() for p in model.parameters()]


def assert_close(ours, theirs, rtol):
    for a, b in zip(ours, theirs):
        scale = b.abs().max().item()
        err = (a - b).abs().max().item()
        assert err <= rtol * scale, f"max error {err:.3g} against max |p| {scale:.3g}"


PARITY = [
    (ot.AdamW, torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.05}),
    (ot.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (ot.Adam, torch.optim.Adam, {"lr": 1e-2}),
]


@pytest.mark.parametrize("ours,theirs,kwargs", PARITY)
@pytest.mark.parametrize("dtype,rtol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_a_trained_mlp_ends_where_torchs_optimizer_leaves_it(ours, theirs, kwargs, dtype, rtol):
    data = batches(dtype)
    a, b = mlp(dtype), mlp(dtype)
    got = train(a, ours(a.parameters(), **kwargs), data)
    want = train(b, theirs(b.parameters(), **kwargs), data)
    assert_close(got, want, rtol)
    # It moved: the comparison is not of two untouched models.
    assert any((p - q).abs().max() > 1e-3 for p, q in zip(got, mlp(dtype).parameters()))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Adagrad", {"lr": 0.05}),
        ("RMSprop", {"lr": 1e-3, "momentum": 0.5, "centered": True}),
        ("Adadelta", {}),
        ("Adamax", {}),
        ("NAdam", {}),
        ("RAdam", {}),
        ("Rprop", {}),
        ("Adam", {"amsgrad": True, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ],
)
def test_every_torch_optimizer_matches_torch_in_float64(name, kwargs):
    data = batches(torch.float64, n=60)
    a, b = mlp(torch.float64), mlp(torch.float64)
    got = train(a, getattr(ot, name)(a.parameters(), **kwargs), data)
    want = train(b, getattr(torch.optim, name)(b.parameters(), **kwargs), data)
    assert_close(got, want, 1e-9)


def test_adafactor_matches_torch():
    data = batches(torch.float64, n=40)
    a, b = mlp(torch.float64), mlp(torch.float64)
    assert_close(train(a, ot.Adafactor(a.parameters()), data), train(b, torch.optim.Adafactor(b.parameters()), data), 1e-9)


@pytest.mark.parametrize("shape", [(16, 8), (8, 16), (3, 16), (16, 16)])
def test_muon_takes_torchs_steps_up_to_torchs_bfloat16_newton_schulz(shape):
    # torch's Muon orthogonalizes in bfloat16 (8-bit mantissa); optimist's in the
    # tensor's own type. Each step agrees to a few percent of the step's size.
    g = torch.Generator().manual_seed(5)
    w = torch.randn(*shape, generator=g, dtype=torch.float64)
    a, b = w.clone().requires_grad_(), w.clone().requires_grad_()
    oa, ob = ot.Muon([a], lr=0.02), torch.optim.Muon([b], lr=0.02)
    for k in range(3):
        grad = torch.randn(*shape, generator=g, dtype=torch.float64)
        before = b.detach().clone()
        a.grad, b.grad = grad.clone(), grad.clone()
        oa.step()
        ob.step()
        size = (b - before).abs().max().item()
        assert (a - b).abs().max().item() <= 0.05 * size * (k + 1)
        with torch.no_grad():
            a.copy_(b)


def test_an_lr_scheduler_takes_effect_on_the_next_step():
    data = batches(torch.float64, n=30)
    a, b = mlp(torch.float64), mlp(torch.float64)
    oa, ob = ot.AdamW(a.parameters(), lr=0.01), torch.optim.AdamW(b.parameters(), lr=0.01)
    sa = torch.optim.lr_scheduler.OneCycleLR(oa, max_lr=0.05, total_steps=30)
    sb = torch.optim.lr_scheduler.OneCycleLR(ob, max_lr=0.05, total_steps=30)
    assert_close(train(a, oa, data, sa), train(b, ob, data, sb), 1e-12)
    assert oa.param_groups[0]["lr"] == ob.param_groups[0]["lr"]


def test_param_groups_add_param_group_and_skipped_grads():
    a, b = mlp(torch.float64), mlp(torch.float64)
    la, lb = list(a.parameters()), list(b.parameters())
    oa = ot.SGD([{"params": la[:2], "lr": 0.1}], lr=0.01, momentum=0.9)
    ob = torch.optim.SGD([{"params": lb[:2], "lr": 0.1}], lr=0.01, momentum=0.9)
    oa.add_param_group({"params": la[2:], "weight_decay": 0.1})
    ob.add_param_group({"params": lb[2:], "weight_decay": 0.1})
    # The last layer's bias gets no gradient: skipped, as torch skips it.
    la[-1].requires_grad_(False)
    lb[-1].requires_grad_(False)
    data = batches(torch.float64, n=20)
    got, want = train(a, oa, data), train(b, ob, data)
    assert_close(got, want, 1e-12)
    assert torch.equal(got[-1], mlp(torch.float64).state_dict()["4.bias"])
    # A parameter whose grad appears later starts with fresh state, as in torch.
    la[-1].requires_grad_(True)
    lb[-1].requires_grad_(True)
    assert_close(train(a, oa, data[:5]), train(b, ob, data[:5]), 1e-12)


# NAdam's float64 steps differ from torch's by about 1e-9 relative, with or without the
# gaps (its order of operations); a shared step count or mu_product would be off by far
# more.
@pytest.mark.parametrize("ours,theirs,rtol", [(ot.Adam, torch.optim.Adam, 1e-12), (ot.NAdam, torch.optim.NAdam, 1e-8)])
def test_grads_that_come_and_go_keep_each_tensors_own_step_count(ours, theirs, rtol):
    # Every third step the first layer has no gradient: torch leaves its state and
    # step count alone, so its bias corrections fall behind the other tensors'.
    data = batches(torch.float64, n=30)
    a, b = mlp(torch.float64), mlp(torch.float64)
    oa, ob = ours(a.parameters(), lr=1e-2), theirs(b.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    for k, (x, t) in enumerate(data):
        for model, opt in ((a, oa), (b, ob)):
            opt.zero_grad()
            loss_fn(model(x), t).backward()
            if k % 3 == 1:
                for p in list(model.parameters())[:2]:
                    p.grad = None
            opt.step()
    assert_close(list(a.parameters()), list(b.parameters()), rtol)


def test_the_step_updates_in_place_and_closure_returns_the_loss():
    m = mlp(torch.float32)
    ptrs = [p.data_ptr() for p in m.parameters()]
    opt = ot.Adam(m.parameters(), lr=0.1)
    x, t = batches(torch.float32, n=1)[0]

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x), t)
        loss.backward()
        return loss

    before = [p.detach().clone() for p in m.parameters()]
    loss = opt.step(closure)
    assert isinstance(loss, torch.Tensor)
    assert [p.data_ptr() for p in m.parameters()] == ptrs
    assert all(not torch.equal(p, q) for p, q in zip(m.parameters(), before))


def test_a_resume_from_state_dict_is_bit_identical():
    data = batches(torch.float32, n=20)
    a = mlp(torch.float32)
    oa = ot.AdamW(a.parameters(), lr=0.01)
    want = train(a, oa, data)

    b = mlp(torch.float32)
    ob = ot.AdamW(b.parameters(), lr=0.01)
    train(b, ob, data[:8])
    sd = pickle.loads(pickle.dumps(ob.state_dict()))
    oc = ot.AdamW(b.parameters(), lr=0.5)
    oc.load_state_dict(sd)
    assert oc.param_groups[0]["lr"] == 0.01
    got = train(b, oc, data[8:])
    for p, q in zip(got, want):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="not an optimist.torch state dict"):
        oc.load_state_dict(torch.optim.AdamW(b.parameters()).state_dict())


def test_unsupported_tensors_and_options_are_clear_errors():
    with pytest.raises(TypeError, match="torch.float16 tensor cannot be stepped"):
        ot.Adam([torch.zeros(3, dtype=torch.float16, requires_grad=True)])
    with pytest.raises(TypeError, match="complex128 tensor cannot be stepped"):
        ot.Adam([torch.zeros(3, dtype=torch.complex128, requires_grad=True)])
    with pytest.raises(TypeError, match="sparse_coo tensor cannot be stepped"):
        ot.SGD([torch.zeros(3).to_sparse().requires_grad_()])
    meta = torch.zeros(3, device="meta", requires_grad=True)
    with pytest.raises(ValueError, match="on meta cannot be stepped; optimist steps CPU tensors"):
        ot.Adam([meta])
    with pytest.raises(ValueError, match="maximize=True is not supported"):
        ot.Adam([torch.zeros(3, requires_grad=True)], maximize=True)
    with pytest.raises(ValueError, match="Adam, parameter group 0: adam: lr = -1 is out of range"):
        ot.Adam([torch.zeros(3, requires_grad=True)], lr=-1.0)
    with pytest.raises(ValueError, match="parameter group 1: .*betas"):
        ot.Adam([torch.zeros(3, requires_grad=True)]).add_param_group({"params": [torch.zeros(2)], "betas": (1.5, 0.9)})
    with pytest.raises(ValueError, match="nonfinite='ignore' is unknown"):
        ot.Adam([torch.zeros(3, requires_grad=True)], nonfinite="ignore")
    sparse_grad = torch.zeros(3, requires_grad=True)
    opt = ot.SGD([sparse_grad], lr=0.1)
    sparse_grad.grad = torch.ones(3).to_sparse()
    with pytest.raises(TypeError, match="gradient 0 of parameter group 0.*sparse_coo"):
        opt.step()


def test_lion_lamb_and_schedule_free_step_and_docstrings_give_formula_and_paper():
    for cls in (ot.Lion, ot.LAMB, ot.ScheduleFreeAdamW):
        m = mlp(torch.float32)
        before = [p.detach().clone() for p in m.parameters()]
        train(m, cls(m.parameters()), batches(torch.float32, n=3))
        assert all(not torch.equal(p, q) for p, q in zip(m.parameters(), before))
    for name in ot.__all__:
        doc = getattr(ot, name).__doc__
        assert "Update:" in doc and "Paper:" in doc, name


def test_step_hooks_and_the_profiler_see_the_step():
    m = mlp(torch.float32)
    opt = ot.SGD(m.parameters(), lr=0.1)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append("post"))
    train(m, opt, batches(torch.float32, n=2))
    assert seen == ["pre", "post", "pre", "post"]
    with torch.profiler.profile() as prof:
        train(m, opt, batches(torch.float32, n=1))
    assert any("Optimizer.step#SGD.step" in e.name for e in prof.events())


def test_gradients_are_trusted_as_torch_does_unless_asked_to_check():
    p = torch.ones(3, requires_grad=True)
    p.grad = torch.tensor([1.0, float("nan"), 1.0])
    ot.SGD([p], lr=0.1).step()
    assert torch.isnan(p[1]) and p[0] == 0.9  # torch's behaviour: NaN flows in
    q = torch.ones(3, requires_grad=True)
    q.grad = torch.tensor([1.0, float("nan"), 1.0])
    with pytest.raises(ValueError, match="the gradient of '0.0' holds NaN at element 1"):
        ot.SGD([q], lr=0.1, nonfinite="refuse").step()
    assert torch.equal(q, torch.ones(3))
    skip = ot.SGD([q], lr=0.1, nonfinite="skip")
    skip.step()
    assert torch.equal(q, torch.ones(3))
