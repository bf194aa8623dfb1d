"""Drop-in torch.optim optimizers on optimist's engine (see optimist/torch.py)."""
from typing import Any, Callable, Iterable, Optional, Union

import torch
from torch.optim import Optimizer as _TorchOptimizer

Params = Union[Iterable[torch.Tensor], Iterable[dict[str, Any]], Iterable[tuple[str, torch.Tensor]]]

class _Optimist(_TorchOptimizer):
    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...
    def add_param_group(self, param_group: dict[str, Any]) -> None: ...

class SGD(_Optimist):
    """torch.optim.SGD on optimist's engine (momentum, dampening, Nesterov, weight decay)."""

    def __init__(self, params: Params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None, nonfinite: str = "trust") -> None: ...

class Adam(_Optimist):
    """torch.optim.Adam on optimist's engine."""

    def __init__(self, params: Params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False, nonfinite: str = "trust") -> None: ...

class AdamW(_Optimist):
    """torch.optim.AdamW on optimist's engine."""

    def __init__(self, params: Params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None, nonfinite: str = "trust") -> None: ...

class Adagrad(_Optimist):
    """torch.optim.Adagrad on optimist's engine."""

    def __init__(self, params: Params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None, nonfinite: str = "trust") -> None: ...

class RMSprop(_Optimist):
    """torch.optim.RMSprop on optimist's engine (centered and momentum forms too)."""

    def __init__(self, params: Params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, capturable=False, foreach=None, maximize=False, differentiable=False, *, nonfinite: str = "trust") -> None: ...

class Adadelta(_Optimist):
    """torch.optim.Adadelta on optimist's engine."""

    def __init__(self, params: Params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False, maximize=False, differentiable=False, nonfinite: str = "trust") -> None: ...

class Adamax(_Optimist):
    """torch.optim.Adamax on optimist's engine."""

    def __init__(self, params: Params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False, differentiable=False, capturable=False, nonfinite: str = "trust") -> None: ...

class NAdam(_Optimist):
    """torch.optim.NAdam on optimist's engine."""

    def __init__(self, params: Params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, nonfinite: str = "trust") -> None: ...

class RAdam(_Optimist):
    """torch.optim.RAdam on optimist's engine."""

    def __init__(self, params: Params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, nonfinite: str = "trust") -> None: ...

class Rprop(_Optimist):
    """torch.optim.Rprop on optimist's engine."""

    def __init__(self, params: Params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None, maximize=False, differentiable=False, nonfinite: str = "trust") -> None: ...

class Adafactor(_Optimist):
    """torch.optim.Adafactor on optimist's engine (eps=(None, 1e-3): None is the
    dtype's machine epsilon, as in torch)."""

    def __init__(self, params: Params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, foreach=None, maximize=False, nonfinite: str = "trust") -> None: ...

class Muon(_Optimist):
    """torch.optim.Muon on optimist's engine (2-D parameters only, as in torch)."""

    def __init__(self, params: Params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None, *, nonfinite: str = "trust") -> None: ...

class Lion(_Optimist):
    """Lion (Chen et al., 2023, arXiv:2302.06675) with optax's rule and defaults, torch's
    names: ``betas`` is optax's (b1, b2)."""

    def __init__(self, params: Params, lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-3, *, nonfinite: str = "trust") -> None: ...

class LAMB(_Optimist):
    """LAMB (You et al., 2020, arXiv:1904.00962) with optax's rule and defaults, torch's
    names: ``betas`` is optax's (b1, b2)."""

    def __init__(self, params: Params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, eps_root=0.0, weight_decay=0.0, *, nonfinite: str = "trust") -> None: ...

class ScheduleFreeAdamW(_Optimist):
    """Schedule-free AdamW (Defazio et al., 2024, arXiv:2405.15682) with optax's rule and
    defaults (those of the authors' ``AdamWScheduleFree``), torch's names."""

    def __init__(self, params: Params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, weight_lr_power=2.0, *, nonfinite: str = "trust") -> None: ...

