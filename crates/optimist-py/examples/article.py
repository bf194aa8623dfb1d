# %% [markdown]
# # The article with optimist
#
# *Deep Learning from Scratch*, chapter 6, compares SGD, Momentum, AdaGrad and Adam on
# f(x, y) = x²/20 + y² with a few numpy classes. This notebook (Jupytext's percent
# format: open it in Jupyter or VS Code, or run it as a script) walks through the same
# experiment with optimist, whose optimizers run on a Rust engine.

# %%
import numpy as np

import optimist

# %% [markdown]
# ## The article's API
#
# The six classes take the article's arguments; `update(params, grads)` takes its
# dicts. Floats are replaced in the dict, numpy arrays are updated in place.

# %%
def f(x, y):
    return x ** 2 / 20.0 + y ** 2


def df(x, y):
    return x / 10.0, 2.0 * y


def race(optimizer, init_pos=(-7.0, 2.0), steps=30):
    params = {"x": init_pos[0], "y": init_pos[1]}
    grads = {}
    x_history, y_history = [], []
    for _ in range(steps):
        x_history.append(params["x"])
        y_history.append(params["y"])
        grads["x"], grads["y"] = df(params["x"], params["y"])
        optimizer.update(params, grads)
    return x_history, y_history


optimizers = {
    "SGD": optimist.SGD(lr=0.95),
    "Momentum": optimist.Momentum(lr=0.1),
    "AdaGrad": optimist.AdaGrad(lr=1.5),
    "Adam": optimist.Adam(lr=0.3),
}
histories = {name: race(opt) for name, opt in optimizers.items()}
for name, (xs, ys) in histories.items():
    print(f"{name:<9} ends at ({xs[-1]:+.4f}, {ys[-1]:+.4f}), f = {f(xs[-1], ys[-1]):.5f}")

# %% [markdown]
# Each class documents its update rule and paper:

# %%
print(optimist.Adam.__doc__)

# %% [markdown]
# ## The race, drawn
#
# `optimist.compare` runs the same race in the engine and returns the trajectories
# as numpy arrays (rows x, y, loss), with a figure that shows inline. Its positions
# are those of the loop above, bit for bit.

# %%
result = optimist.compare()
for run, (name, (xs, ys)) in zip(result.runs, histories.items()):
    assert list(run.x[:-1]) == xs and list(run.y[:-1]) == ys, name
result

# %% [markdown]
# Other views: every trajectory on one plot, and the loss against the step.

# %%
result.figure("overlay")

# %%
result.figure("loss")

# %% [markdown]
# ## Other landscapes, other optimizers, tuned
#
# The article's learning rates suit its ravine. On Rosenbrock's valley they diverge;
# `tune=True` first finds each optimizer's best rate there. Any optimizer of the
# library can race, by spec (`optimist.optimizers()` lists them all).

# %%
rosen = optimist.compare(
    function="rosenbrock",
    optimizers=["sgd", "momentum", "nesterov", "rmsprop", "adam", "lion"],
    steps=300,
    tune=True,
)
rosen

# %%
rosen.figure("overlay")

# %% [markdown]
# Save any view: PNG or SVG, the race animated as a GIF, or an interactive page.

# %%
rosen.save("rosenbrock.gif")
rosen.save("rosenbrock.html")

# %% [markdown]
# ## Every other optimizer, and PyTorch
#
# `optimist.create` builds any optimizer by spec, in torch's or optax's convention,
# with a schedule, clipping or parameter groups; `optimist.torch` holds drop-in
# `torch.optim` classes (`optimist.torch.AdamW(model.parameters(), lr=1e-3)`).

# %%
params = {"W": np.ones((3, 2)), "b": np.zeros(2)}
opt = optimist.create(
    "adamw:lr=0.1,weight_decay=0.01",
    convention="pytorch",
    schedule="cosineannealinglr:T_max=10",
    groups=["b:weight_decay=0"],
)
for _ in range(10):
    opt.update(params, {"W": 2 * params["W"], "b": params["b"] - 1})
params
