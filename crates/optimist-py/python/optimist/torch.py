"""Drop-in ``torch.optim`` optimizers stepped by optimist's engine.

Each class is a ``torch.optim.Optimizer`` with torch's constructor signature and
defaults: ``step(closure=None)``, ``zero_grad()``, ``param_groups`` (changes made by
``torch.optim.lr_scheduler`` apply from the next step), ``state_dict()`` /
``load_state_dict()`` and ``add_param_group``. Parameters are CPU float32 or float64
tensors, updated in place through numpy views of their memory (no copies); the engine
keeps the optimizer state, one engine per parameter group.

Like torch, a step trusts its gradients by default: a NaN or an infinity flows into
the parameters. ``nonfinite="refuse"`` (a ValueError naming the element, nothing
changes) or ``"skip"`` (the step is skipped) makes the engine check them first, at the
cost of one more read of the gradients.

Parameters whose ``grad`` is None are skipped, as torch does: their values, state and
own step count stay as they were, and a parameter that gets its first gradient later
starts with fresh state.

``Lion``, ``LAMB`` and ``ScheduleFreeAdamW`` have no torch.optim class: they take
torch-style names (``lr``, ``betas``) for optax's rules and defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.optim.optimizer as _optim_module
from torch.optim import Optimizer as _TorchOptimizer

from . import _optimist

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "Adafactor",
    "Muon",
    "Lion",
    "LAMB",
    "ScheduleFreeAdamW",
]

_DTYPES = (torch.float32, torch.float64)

# Options of torch's constructors that change how torch computes, not what: accepted
# and kept in param_groups, with no effect here.
_NO_EFFECT = ("foreach", "fused", "capturable")


def _spec_value(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "/".join(_spec_value(v) for v in value)
    return repr(float(value))


def _engine_value(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, (tuple, list)):
        return tuple(_engine_value(v) for v in value)
    return value


class _Optimist(_TorchOptimizer):
    """The machinery shared by every class: one engine per parameter group, built from
    the group's hyperparameters on its first step and kept in step with them."""

    #: The optimizer's name in the library.
    _name: str = ""
    #: The group keys the engine reads: (torch key, library key or keys).
    _keys: Tuple[Tuple[str, Any], ...] = ()

    def __init__(self, params: Any, defaults: Dict[str, Any]) -> None:
        if defaults.get("maximize"):
            raise ValueError(f"{type(self).__name__}: maximize=True is not supported by optimist; negate the loss instead")
        if defaults.get("differentiable"):
            raise ValueError(f"{type(self).__name__}: differentiable=True is not supported: optimist's step is not recorded by autograd")
        self._nonfinite = defaults.pop("nonfinite")
        if self._nonfinite not in ("refuse", "skip", "trust"):
            raise ValueError(f"{type(self).__name__}: nonfinite={self._nonfinite!r} is unknown; expected 'trust' (torch's way), 'refuse' or 'skip'")
        self._engines: Dict[int, Any] = {}
        self._applied: Dict[int, tuple] = {}
        self._views: Dict[int, list] = {}
        super().__init__(params, defaults)

    # -- parameters ----------------------------------------------------------------

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        params = param_group["params"]
        tensors = [params] if isinstance(params, torch.Tensor) else list(params)
        for p in tensors:
            if isinstance(p, tuple):  # (name, tensor) pairs, as torch accepts
                p = p[1]
            _check_tensor(type(self).__name__, p)
        super().add_param_group(param_group)
        # Built now, so that bad hyperparameters fail here, as torch's checks do.
        self._engine(len(self.param_groups) - 1, self.param_groups[-1])

    def _view(self, p: torch.Tensor) -> Any:
        return p.detach().numpy()

    # -- the engine ----------------------------------------------------------------

    def _values(self, group: Dict[str, Any]) -> tuple:
        return tuple(group[k] for k, _ in self._keys)

    def _spec(self, values: tuple) -> str:
        items = []
        for (_, lib), value in zip(self._keys, values):
            if isinstance(lib, tuple):
                items += [f"{k}={_spec_value(v)}" for k, v in zip(lib, value)]
            elif lib is not None:
                items.append(f"{lib}={self._encode(lib, value)}")
        return f"{self._name}:{','.join(items)}"

    def _encode(self, key: str, value: Any) -> str:
        return _spec_value(value)

    def _convert(self, key: str, value: Any) -> Any:
        return _engine_value(value)

    def _engine(self, index: int, group: Dict[str, Any]) -> Any:
        """The group's engine, its hyperparameters set to the group's current ones."""
        values = self._values(group)
        engine = self._engines.get(index)
        if engine is None:
            try:
                engine = _optimist.Engine(self._spec(values), "pytorch", [], self._nonfinite)
            except ValueError as e:
                raise ValueError(f"{type(self).__name__}, parameter group {index}: {e}") from None
            self._engines[index] = engine
            self._applied[index] = values
        elif values != self._applied[index]:
            self._apply(engine, self._applied[index], values)
            self._applied[index] = values
        return engine

    def _apply(self, engine: Any, old: tuple, new: tuple) -> None:
        """Sets the engine's hyperparameters that differ between ``old`` and ``new``."""
        for ((_, lib), value), before in zip(zip(self._keys, new), old):
            if value == before or lib is None:
                continue
            if isinstance(lib, tuple):
                for k, v in zip(lib, value):
                    engine.set_hyperparameter(k, self._convert(k, v))
            else:
                engine.set_hyperparameter(lib, self._convert(lib, value))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One step over every parameter with a gradient; ``closure`` (if given)
        re-evaluates the model and returns the loss, which ``step`` returns.

        Step hooks and the profiler's record of the step work as in torch; without
        them, the step skips torch's wrapper (whose record_function costs more than
        a small step)."""
        if (
            self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
            or _optim_module._global_optimizer_pre_hooks
            or _optim_module._global_optimizer_post_hooks
            or torch.autograd.profiler._is_profiler_enabled
        ):
            return _hooked_step(self, closure)
        return self._step(closure)

    # torch's Optimizer.__init__ wraps a step not marked so; `step` above wraps itself.
    step.hooked = True  # type: ignore[attr-defined]

    def _step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """The step itself: no torch operation but the closure's, so no no_grad."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            engine = self._engine(index, group)
            names, values, grads = [], [], []
            views = self._views.setdefault(index, [])
            for i, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                while len(views) <= i:
                    views.append(None)
                v = views[i]
                # The numpy views are reused while both tensors keep their address,
                # shape, strides and dtype (`.data =`, `set_` and `resize_` change
                # those, not the tensors' identity): with all four equal, a view
                # covers exactly the tensor's memory, whatever happened in between.
                if (
                    v is None
                    or v[0] is not g
                    or v[1] != p.data_ptr()
                    or v[2] != g.data_ptr()
                    or v[3] != p.shape
                    or v[4] != g.shape
                    or v[5] != p.stride()
                    or v[6] != g.stride()
                    or v[7] is not p.dtype
                    or v[8] is not g.dtype
                ):
                    v = views[i] = _views(p, g, index, i)
                names.append(v[9])
                values.append(v[10])
                grads.append(v[11])
            if not names:
                continue
            try:
                engine.step(names, values, grads)
            except _optimist.StateMismatchError as e:
                # torch raises a RuntimeError for a parameter resized under its state.
                raise RuntimeError(f"parameter group {index}: {e}") from None
        return loss

    # -- state ---------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        """torch's state dict, with each group's engine state (bytes) under
        ``"optimist"``; ``load_state_dict`` resumes from it bit for bit."""
        sd = super().state_dict()
        sd["optimist"] = {
            i: {"state": e.save_state(), "applied": self._applied[i]} for i, e in self._engines.items()
        }
        return sd

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Resumes from ``state_dict()``'s result. Everything is checked and decoded
        first: a dict that fails (a missing key, bytes that do not decode) raises and
        changes nothing, neither the groups nor torch's state nor the engines."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{owner}: expected the dict state_dict() returns, not {type(state_dict).__name__}")
        saved = state_dict.get("optimist")
        if not isinstance(saved, Mapping):
            raise ValueError("not an optimist.torch state dict: its 'optimist' entry, the engines' state, is missing")
        for key, kind in (("state", Mapping), ("param_groups", list)):
            if key not in state_dict:
                raise ValueError(f"{owner}: the state dict has no {key!r} entry (torch's part of it); expected the dict state_dict() returns")
            if not isinstance(state_dict[key], kind):
                raise TypeError(f"{owner}: the state dict's {key!r} is {type(state_dict[key]).__name__}; expected a {kind.__name__}")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{owner}: the state dict has {len(groups)} parameter groups and this optimizer {len(self.param_groups)}")
        for i, (group, mine) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(group, Mapping) or not isinstance(group.get("params"), (list, tuple)):
                raise ValueError(f"{owner}: parameter group {i} of the state dict is not a dict with a 'params' list")
            if len(group["params"]) != len(mine["params"]):
                raise ValueError(f"{owner}: parameter group {i} of the state dict has {len(group['params'])} parameters and this optimizer's {len(mine['params'])}")
            missing = [k for k, _ in self._keys if k not in group]
            if missing:
                raise ValueError(f"{owner}: parameter group {i} of the state dict has no {', '.join(map(repr, missing))}; expected {type(self).__name__}'s hyperparameters")
        engines, applied = {}, {}
        for key, entry in saved.items():
            where = f"{owner}: 'optimist' entry {key!r}"
            if isinstance(key, str) and key.isdigit():
                key = int(key)
            if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < len(groups):
                raise ValueError(f"{where}: expected a parameter group's index, 0 to {len(groups) - 1}")
            if not isinstance(entry, Mapping):
                raise TypeError(f"{where} is {type(entry).__name__}; expected a dict with 'state' and 'applied'")
            for field in ("state", "applied"):
                if field not in entry:
                    raise ValueError(f"{where} has no {field!r} key; expected a dict with 'state' and 'applied'")
            values = entry["applied"]
            if not isinstance(values, (tuple, list)) or len(values) != len(self._keys):
                raise ValueError(f"{where}: 'applied' must hold the group's {len(self._keys)} hyperparameters ({', '.join(k for k, _ in self._keys)}), not {values!r}")
            state = entry["state"]
            if not (isinstance(state, (tuple, list)) and len(state) == 2 and isinstance(state[1], bytes) and state[0] in (None, "float32", "float64")):
                raise ValueError(f"{where}: 'state' must be the pair (dtype, bytes) the engine saved, dtype None, 'float32' or 'float64'")
            values = tuple(values)
            # The group's own values (a scheduler's lr, say) apply from the next step.
            current = self._values(groups[key])
            try:
                engine = _optimist.Engine(self._spec(values), "pytorch", [], self._nonfinite)
                engine.load_state(state[0], state[1])
                self._apply(engine, values, current)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{where}: {e}") from None
            engines[key], applied[key] = engine, current
        # torch checks the groups against this optimizer's before it changes anything.
        rest = {k: v for k, v in state_dict.items() if k != "optimist"}
        super().load_state_dict(rest)
        self._engines, self._applied, self._views = engines, applied, {}


def _views(p: torch.Tensor, g: torch.Tensor, group: int, index: int) -> tuple:
    """The cache entry of a parameter and its gradient: what the numpy views were made
    from, the tensor's name, and the views."""
    if g.shape != p.shape:
        # torch's step raises a RuntimeError too (the shapes do not broadcast).
        raise RuntimeError(
            f"gradient {index} of parameter group {group} has shape {list(g.shape)} but its parameter has shape {list(p.shape)}"
        )
    # The views first: they check the tensors (sparse ones have no address).
    pv, gv = _numpy(p, "parameter", group, index), _numpy(g, "gradient", group, index)
    return (g, p.data_ptr(), g.data_ptr(), p.shape, g.shape, p.stride(), g.stride(), p.dtype, g.dtype, f"{group}.{index}", pv, gv)


_hooked_step = _TorchOptimizer.profile_hook_step(_Optimist._step)


def _check_tensor(owner: str, p: Any) -> None:
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"{owner}: parameters must be torch tensors, not {type(p).__name__}")
    if p.layout is not torch.strided:
        raise TypeError(f"{owner}: a {p.layout} tensor cannot be stepped; optimist steps dense (strided) tensors")
    if p.device.type != "cpu":
        raise ValueError(f"{owner}: a tensor on {p.device} cannot be stepped; optimist steps CPU tensors (move the model with .cpu())")
    if p.dtype not in _DTYPES:
        raise TypeError(f"{owner}: a {p.dtype} tensor cannot be stepped; optimist steps torch.float32 and torch.float64 tensors")


def _numpy(t: torch.Tensor, what: str, group: int, index: int) -> Any:
    try:
        _check_tensor(f"{what} {index} of parameter group {group}", t)
        return t.detach().numpy()
    except (TypeError, ValueError):
        raise
    except Exception as e:  # torch's own refusals (e.g. a tensor with a conjugate bit)
        raise TypeError(f"{what} {index} of parameter group {group} cannot be shared with the engine: {e}") from None


def _defaults(local: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in local.items() if k not in ("self", "params", "__class__")}


_BETAS = (("lr", "lr"), ("betas", "betas"), ("eps", "eps"), ("weight_decay", "weight_decay"))


class SGD(_Optimist):
    """torch.optim.SGD on optimist's engine (momentum, dampening, Nesterov, weight decay)."""

    _name = "sgd"
    _keys = (("lr", "lr"), ("momentum", "momentum"), ("dampening", "dampening"), ("weight_decay", "weight_decay"), ("nesterov", "nesterov"))

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Adam(_Optimist):
    """torch.optim.Adam on optimist's engine."""

    _name = "adam"
    _keys = _BETAS + (("amsgrad", "amsgrad"), ("decoupled_weight_decay", "decoupled_weight_decay"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class AdamW(_Optimist):
    """torch.optim.AdamW on optimist's engine."""

    _name = "adamw"
    _keys = _BETAS + (("amsgrad", "amsgrad"),)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Adagrad(_Optimist):
    """torch.optim.Adagrad on optimist's engine."""

    _name = "adagrad"
    _keys = (("lr", "lr"), ("lr_decay", "lr_decay"), ("weight_decay", "weight_decay"), ("initial_accumulator_value", "initial_accumulator_value"), ("eps", "eps"))

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class RMSprop(_Optimist):
    """torch.optim.RMSprop on optimist's engine (centered and momentum forms too)."""

    _name = "rmsprop"
    _keys = (("lr", "lr"), ("alpha", "alpha"), ("eps", "eps"), ("weight_decay", "weight_decay"), ("momentum", "momentum"), ("centered", "centered"))

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, capturable=False, foreach=None, maximize=False, differentiable=False, *, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Adadelta(_Optimist):
    """torch.optim.Adadelta on optimist's engine."""

    _name = "adadelta"
    _keys = (("lr", "lr"), ("rho", "rho"), ("eps", "eps"), ("weight_decay", "weight_decay"))

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False, maximize=False, differentiable=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Adamax(_Optimist):
    """torch.optim.Adamax on optimist's engine."""

    _name = "adamax"
    _keys = _BETAS

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False, differentiable=False, capturable=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class NAdam(_Optimist):
    """torch.optim.NAdam on optimist's engine."""

    _name = "nadam"
    _keys = _BETAS + (("momentum_decay", "momentum_decay"), ("decoupled_weight_decay", "decoupled_weight_decay"))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class RAdam(_Optimist):
    """torch.optim.RAdam on optimist's engine."""

    _name = "radam"
    _keys = _BETAS + (("decoupled_weight_decay", "decoupled_weight_decay"),)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Rprop(_Optimist):
    """torch.optim.Rprop on optimist's engine."""

    _name = "rprop"
    _keys = (("lr", "lr"), ("etas", "etas"), ("step_sizes", "step_sizes"))

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None, maximize=False, differentiable=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class Adafactor(_Optimist):
    """torch.optim.Adafactor on optimist's engine (eps=(None, 1e-3): None is the
    dtype's machine epsilon, as in torch)."""

    _name = "adafactor"
    _keys = (("lr", "lr"), ("beta2_decay", "beta2_decay"), ("eps", "eps"), ("d", "d"), ("weight_decay", "weight_decay"))

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, foreach=None, maximize=False, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))

    def _encode(self, key, value):
        if key == "eps":
            value = (0.0 if value[0] is None else value[0], value[1])
        return _spec_value(value)

    def _convert(self, key, value):
        if key == "eps":
            value = (0.0 if value[0] is None else value[0], value[1])
        return _engine_value(value)


class Muon(_Optimist):
    """torch.optim.Muon on optimist's engine (2-D parameters only, as in torch)."""

    _name = "muon"
    _keys = (("lr", "lr"), ("weight_decay", "weight_decay"), ("momentum", "momentum"), ("nesterov", "nesterov"), ("eps", "eps"), ("ns_steps", "ns_steps"), ("adjust_lr_fn", "match_rms_adamw"))

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None, *, nonfinite="trust"):
        if tuple(ns_coefficients) != (3.4445, -4.775, 2.0315):
            raise ValueError(f"Muon: ns_coefficients={ns_coefficients!r} is not supported; optimist's Newton-Schulz iteration uses torch's default (3.4445, -4.775, 2.0315)")
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Muon: adjust_lr_fn={adjust_lr_fn!r} is unknown; expected None, 'original' or 'match_rms_adamw'")
        super().__init__(params, _defaults(locals()))

    def _encode(self, key, value):
        return _spec_value(self._convert(key, value))

    def _convert(self, key, value):
        if key == "match_rms_adamw":
            return value == "match_rms_adamw"
        return _engine_value(value)


class Lion(_Optimist):
    """Lion (Chen et al., 2023, arXiv:2302.06675) with optax's rule and defaults, torch's
    names: ``betas`` is optax's (b1, b2)."""

    _name = "lion"
    _keys = (("lr", "learning_rate"), ("betas", ("b1", "b2")), ("weight_decay", "weight_decay"))

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-3, *, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class LAMB(_Optimist):
    """LAMB (You et al., 2020, arXiv:1904.00962) with optax's rule and defaults, torch's
    names: ``betas`` is optax's (b1, b2)."""

    _name = "lamb"
    _keys = (("lr", "learning_rate"), ("betas", ("b1", "b2")), ("eps", "eps"), ("eps_root", "eps_root"), ("weight_decay", "weight_decay"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, eps_root=0.0, weight_decay=0.0, *, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


class ScheduleFreeAdamW(_Optimist):
    """Schedule-free AdamW (Defazio et al., 2024, arXiv:2405.15682) with optax's rule and
    defaults (those of the authors' ``AdamWScheduleFree``), torch's names."""

    _name = "schedule_free_adamw"
    _keys = (("lr", "learning_rate"), ("betas", ("b1", "b2")), ("eps", "eps"), ("weight_decay", "weight_decay"), ("warmup_steps", "warmup_steps"), ("weight_lr_power", "weight_lr_power"))

    def __init__(self, params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, weight_lr_power=2.0, *, nonfinite="trust"):
        super().__init__(params, _defaults(locals()))


def _document() -> None:
    """Each class's docstring gains its rule's formula and paper from the catalog."""
    catalog = {i["name"]: i for i in _optimist.catalog() if i["convention"] in ("pytorch", "optax")}
    for name in __all__:
        cls = globals()[name]
        info = catalog[cls._name]
        cls.__doc__ = f"{cls.__doc__}\n\nUpdate: {info['formula']}\n\nPaper: {info['paper']}\n"


_document()
