from collections.abc import Mapping, MutableMapping
from typing import Any, Iterable, Optional, Union

Value = Union[float, bool, tuple[float, float]]

class Optimizer:
    """An optimist optimizer built from a spec such as ``"adam:lr=0.3"``; ``update``
    takes the article's dicts (numpy arrays updated in place, floats replaced)."""

    def __init__(
        self,
        spec: str,
        *,
        convention: str = "article",
        schedule: Optional[str] = None,
        clip: Optional[str] = None,
        groups: Iterable[str] = (),
        nonfinite: str = "refuse",
    ) -> None: ...
    def update(self, params: MutableMapping[Any, Any], grads: Mapping[Any, Any]) -> None:
        """One step over every entry of ``params`` from ``grads[key]``."""
    @property
    def name(self) -> str: ...
    @property
    def hyperparameters(self) -> dict[str, Value]: ...
    @property
    def lr(self) -> Optional[float]: ...
    @lr.setter
    def lr(self, value: float) -> None: ...
    def set_hyperparameter(self, key: str, value: Value) -> None: ...
    @property
    def nonfinite(self) -> str: ...
    @nonfinite.setter
    def nonfinite(self, policy: str) -> None: ...
    @property
    def steps(self) -> int: ...
    @property
    def skipped_steps(self) -> int: ...
    def reset(self) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None: ...

class SGD(Optimizer):
    """Stochastic gradient descent, the article's ``SGD``.

    Update: p ← p − lr·g

    Paper: Robbins & Monro, A Stochastic Approximation Method (1951)
    """

    def __init__(self, lr: float = 0.01, **options: Any) -> None: ...

class Momentum(Optimizer):
    """Momentum SGD, the article's ``Momentum``.

    Update: v ← momentum·v − lr·g; p ← p + v

    Paper: Polyak, Some methods of speeding up the convergence of iteration methods (1964)
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, **options: Any) -> None: ...

class Nesterov(Optimizer):
    """Nesterov's accelerated gradient, the article's ``Nesterov``.

    Update: v ← momentum·v − lr·g; p ← p + momentum²·v − (1 + momentum)·lr·g

    Paper: Nesterov (1983); Bengio, Boulanger-Lewandowski & Pascanu, Advances in
    Optimizing Recurrent Networks (arXiv:1212.0901)
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, **options: Any) -> None: ...

class AdaGrad(Optimizer):
    """AdaGrad, the article's ``AdaGrad``.

    Update: h ← h + g²; p ← p − lr·g / (√h + 1e-7)

    Paper: Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization (JMLR 2011)
    """

    def __init__(self, lr: float = 0.01, **options: Any) -> None: ...

class RMSprop(Optimizer):
    """RMSprop, the article's ``RMSprop``.

    Update: h ← decay_rate·h + (1 − decay_rate)·g²; p ← p − lr·g / (√h + 1e-7)

    Paper: Tieleman & Hinton, Lecture 6.5 of Neural Networks for Machine Learning (2012)
    """

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, **options: Any) -> None: ...

class Adam(Optimizer):
    """Adam, the article's ``Adam``.

    Update: lr_t = lr·√(1 − beta2^t)/(1 − beta1^t); m ← m + (1 − beta1)(g − m);
    v ← v + (1 − beta2)(g² − v); p ← p − lr_t·m/(√v + 1e-7)

    Paper: Kingma & Ba, Adam: A Method for Stochastic Optimization (ICLR 2015,
    arXiv:1412.6980)
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, **options: Any) -> None: ...

def create(
    spec: str,
    *,
    convention: str = "article",
    schedule: Optional[str] = None,
    clip: Optional[str] = None,
    groups: Iterable[str] = (),
    nonfinite: str = "refuse",
) -> Optimizer:
    """Any optimizer by spec, e.g. ``create("adamw:lr=1e-3,weight_decay=0.01", convention="pytorch")``."""

def optimizers(convention: Optional[str] = None) -> list[dict[str, Any]]:
    """Every optimizer: name, convention, formula, paper, hyperparameters (name, default, range, doc)."""

def schedules() -> list[dict[str, Any]]:
    """Every learning-rate schedule and the warm-up, with keys, defaults and ranges."""
