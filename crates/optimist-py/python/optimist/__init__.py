"""optimist: gradient-descent optimizers on a fast Rust engine.

- The article's API (*Deep Learning from Scratch*, chapter 6) on numpy:
  ``SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam`` with ``opt.update(params, grads)``;
  every other optimizer by spec: ``create("adamw:lr=1e-3", convention="pytorch")``;
  ``optimizers()`` describes them all (formula, paper, hyperparameters).
- ``optimist.torch``: drop-in ``torch.optim`` optimizers stepping tensors in place.
- ``compare(...)``: optimizers raced on a landscape, with figures that show in Jupyter;
  ``train(...)``: the book's MNIST network experiment.
"""
from .core import (
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    create,
    optimizers,
    schedules,
)
from .lab import CompareResult, Figure, TrainResult, compare, landscapes, train

__all__ = [
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
    "Optimizer",
    "create",
    "optimizers",
    "schedules",
    "compare",
    "landscapes",
    "train",
    "CompareResult",
    "Figure",
    "TrainResult",
]
