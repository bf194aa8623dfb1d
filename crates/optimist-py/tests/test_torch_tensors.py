"""optimist.torch when tensors change under the optimizer: gradients and parameters
reassigned between steps (`.data =`, `set_`, `resize_`), held to what torch.optim.SGD
and Adam do under the same code."""
import os

import pytest

torch = __import__("torch") if os.environ.get("CI") else pytest.importorskip("torch")
import optimist.torch as ot  # noqa: E402

PAIRS = [(ot.SGD, torch.optim.SGD), (ot.Adam, torch.optim.Adam)]


def first_step(cls):
    """A parameter of 4 zeros with an optimizer (lr=1) that has taken one step with a
    gradient of ones, the gradient kept (as after zero_grad(set_to_none=False))."""
    p = torch.nn.Parameter(torch.zeros(4))
    opt = cls([p], lr=1.0)
    p.grad = torch.ones(4)
    opt.step()
    return p, opt


def set_data(t, value):
    t.data = value


# Each changes the gradient or the parameter between two steps; torch then steps with
# the new tensors.
STEPPED = {
    "grad.data = zeros(4)": lambda p: set_data(p.grad, torch.zeros(4)),
    "grad.set_(full(4, 5))": lambda p: p.grad.set_(torch.full((4,), 5.0)),
    "grad.data = a view of other memory": lambda p: set_data(p.grad, torch.arange(8.0)[2:6]),
    "grad shrunk and regrown in place (resize_)": lambda p: (p.grad.resize_(2), p.grad.resize_(4), p.grad.copy_(torch.tensor([1.0, -2.0, 3.0, -4.0]))),
    "p.data = zeros(4)": lambda p: set_data(p, torch.zeros(4)),
    "p.data = ones(4), grad.data = full(4, 2)": lambda p: (set_data(p, torch.ones(4)), set_data(p.grad, torch.full((4,), 2.0))),
}


@pytest.mark.parametrize("ours,theirs", PAIRS, ids=["SGD", "Adam"])
@pytest.mark.parametrize("change", STEPPED.values(), ids=list(STEPPED))
def test_a_reassigned_tensor_is_stepped_as_torch_steps_it(ours, theirs, change):
    a, oa = first_step(ours)
    b, ob = first_step(theirs)
    assert torch.equal(a, b)
    change(a)
    change(b)
    oa.step()
    ob.step()
    assert torch.allclose(a, b, rtol=1e-6, atol=1e-7), (a, b)
    # And again: the new views are kept while the tensors stay.
    oa.step()
    ob.step()
    assert torch.allclose(a, b, rtol=1e-6, atol=1e-7), (a, b)


def test_the_issues_cases_give_torchs_numbers():
    # SGD, lr=1: the first step leaves p at -1; a zeroed gradient leaves it there, and a
    # gradient of 5 moves it to -6 (optimist stepped with the old ones: -2).
    p, opt = first_step(ot.SGD)
    p.grad.data = torch.zeros(4)
    opt.step()
    assert p.tolist() == [-1.0] * 4
    p.grad.set_(torch.full((4,), 5.0))
    opt.step()
    assert p.tolist() == [-6.0] * 4


# Each leaves a gradient or parameter of another shape: torch's step raises a
# RuntimeError, and so does optimist's, changing nothing.
RAISED = {
    "grad.data = zeros(2)": (lambda p: set_data(p.grad, torch.zeros(2)), r"has shape \[2\] but its parameter has shape \[4\]"),
    "grad.data = zeros(2, 2)": (lambda p: set_data(p.grad, torch.zeros(2, 2)), r"has shape \[2, 2\] but its parameter has shape \[4\]"),
    "p.data = p.data[:2]": (lambda p: set_data(p, p.data[:2]), r"has shape \[4\] but its parameter has shape \[2\]"),
}


@pytest.mark.parametrize("ours,theirs", PAIRS, ids=["SGD", "Adam"])
@pytest.mark.parametrize("change,message", RAISED.values(), ids=list(RAISED))
def test_a_tensor_of_another_shape_raises_as_in_torch(ours, theirs, change, message):
    b, ob = first_step(theirs)
    change(b)
    with pytest.raises(RuntimeError):
        ob.step()
    a, oa = first_step(ours)
    change(a)
    before = a.detach().clone()
    with pytest.raises(RuntimeError, match="gradient 0 of parameter group 0 " + message):
        oa.step()
    assert torch.equal(a, before)


def test_a_parameter_resized_under_its_state_raises_as_torchs_adam_does():
    # Both the parameter and its gradient shrink to 2 elements: torch's Adam raises
    # (its moments have 4), and so does optimist's, naming the shapes.
    b, ob = first_step(torch.optim.Adam)
    b.data, b.grad.data = b.data[:2], torch.zeros(2)
    with pytest.raises(RuntimeError):
        ob.step()
    for cls in (ot.Adam, ot.SGD):
        a, oa = first_step(cls)
        a.data, a.grad.data = a.data[:2], torch.zeros(2)
        before = a.detach().clone()
        with pytest.raises(RuntimeError, match=r"parameter group 0: .*parameter '0.0' has shape \[2\] but its state has shape \[4\]"):
            oa.step()
        assert torch.equal(a, before)
    # torch's plain SGD keeps no state, so it steps the 2 elements; optimist's keeps
    # the shape of every tensor it stepped and asks for a new optimizer (above).
    c, oc = first_step(torch.optim.SGD)
    c.data, c.grad.data = c.data[:2], torch.ones(2)
    oc.step()
    assert c.tolist() == [-2.0, -2.0]
