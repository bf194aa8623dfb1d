"""optimist's optimizers with the article's API: ``opt.update(params, grads)``.

Every class here is a thin handle on the Rust engine (``optimist._optimist.Engine``);
the update rules live in the Rust library, one file per optimizer.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, MutableMapping
from typing import Any, Iterable, Optional

import numpy as np

from . import _optimist

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSprop",
    "Adam",
    "create",
    "optimizers",
    "schedules",
]

_STATE_VERSION = 1


def _number(key: str, value: Any) -> str:
    """A hyperparameter as spec text: the shortest form that reads back as the float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{key} must be a real number, not {type(value).__name__}")
    return repr(float(value))


def _text(key: str, value: Any, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a str, not {type(value).__name__}")
    return value


def _is_real(x: Any) -> bool:
    """A real number that is not a bool: int, float, numpy integer or float scalar."""
    return isinstance(x, (numbers.Real, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))


class Optimizer:
    """An optimist optimizer, built from a spec such as ``"adam:lr=0.3"``.

    ``update(params, grads)`` takes the article's dicts: numpy float32 or float64 arrays
    are updated in place, floats (and numpy float scalars) are replaced by their new
    values. State is created on the first update and kept per name.

    Options:
      convention: whose formulas and defaults names mean: ``"article"`` (default),
        ``"pytorch"`` or ``"optax"``;
      schedule: a learning-rate schedule spec with torch's names, stepped after each
        update, e.g. ``"cosineannealinglr:T_max=100,warmup_steps=10"``;
      clip: gradient clipping before each update, ``"clip_grad_norm:max_norm=1"`` or
        ``"clip_grad_value:clip_value=0.5"`` (the caller's gradients are not changed);
      groups: other hyperparameters for the tensors whose names match a glob, e.g.
        ``["*.bias:weight_decay=0"]``;
      nonfinite: what a gradient holding NaN or an infinity does: ``"refuse"`` (a
        ValueError, nothing changes; the default), ``"skip"`` the step, or ``"trust"``.
    """

    def __init__(
        self,
        spec: str,
        *,
        convention: str = "article",
        schedule: Optional[str] = None,
        clip: Optional[str] = None,
        groups: Iterable[str] = (),
        nonfinite: str = "refuse",
    ) -> None:
        _text("spec", spec)
        _text("convention", convention)
        _text("schedule", schedule, optional=True)
        _text("clip", clip, optional=True)
        _text("nonfinite", nonfinite)
        if isinstance(groups, str):
            raise TypeError("groups must be a list of group specs such as '*.bias:weight_decay=0', not one str")
        groups = [_text("each group", g) for g in groups]
        self._config = {
            "spec": spec,
            "convention": convention,
            "schedule": schedule,
            "clip": clip,
            "groups": groups,
            "nonfinite": nonfinite,
        }
        self._engine = _optimist.Engine(spec, convention, groups, nonfinite, clip, schedule)

    # -- the article's API ---------------------------------------------------------

    def update(self, params: MutableMapping, grads: Mapping) -> None:
        """One step: every entry of ``params`` (in its order) from ``grads[key]``.

        Arrays must be C-contiguous, writeable numpy float32/float64 arrays, each with a
        gradient array of the same shape and dtype; they are updated in place. Python
        floats and numpy float scalars are replaced in ``params``. Everything is checked
        before anything changes.
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping (e.g. a dict) of names to arrays or floats, not {type(params).__name__}")
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a mapping (e.g. a dict) of names to arrays or floats, not {type(grads).__name__}")
        keys = list(params.keys())
        array_dtype = None
        for key in keys:
            p = params[key]
            if isinstance(p, np.ndarray) and p.dtype in (np.float32, np.float64):
                array_dtype = p.dtype
                break
        names, ps, gs, scalars = [], [], [], []
        for key in keys:
            p = params[key]
            if key not in grads:
                raise ValueError(f"parameters and gradients do not match: no gradient for parameter {key!r}")
            g = grads[key]
            names.append(key if isinstance(key, str) else repr(key))
            if isinstance(p, np.ndarray):
                if p.ndim == 0 and _is_real(g):
                    # numpy hands 0-d results back as scalars, e.g. np.sin(a 0-d array).
                    g = np.array(g, dtype=p.dtype)
                ps.append(p)
                gs.append(g)
            elif isinstance(p, (float, np.floating)) and not isinstance(p, np.float16):
                dtype = np.float32 if isinstance(p, np.float32) else (array_dtype or np.float64)
                if not (_is_real(g) or (isinstance(g, np.ndarray) and g.ndim == 0)):
                    raise TypeError(f"gradient {key!r} is {type(g).__name__}; a float parameter needs a real number")
                value = np.array(p, dtype=dtype)
                ps.append(value)
                gs.append(np.array(g, dtype=dtype))
                scalars.append((key, type(p), value))
            else:
                raise TypeError(
                    f"parameter {key!r} is {type(p).__name__}; expected a numpy float32 or float64 array (updated in place) or a float (replaced)"
                )
        if len(grads) != len(keys):
            extra = next((k for k in grads if k not in params), None)
            if extra is not None:
                raise ValueError(f"parameters and gradients do not match: gradient {extra!r} has no parameter of that name")
        if scalars and not isinstance(params, MutableMapping):
            raise TypeError("params holds floats, which are replaced after the step, but it cannot be assigned to")
        self._engine.step(names, ps, gs)
        for key, kind, value in scalars:
            params[key] = kind(value[()])

    # -- what it is ----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The optimizer's name, e.g. ``"adam"``."""
        return self._engine.name

    @property
    def hyperparameters(self) -> dict:
        """Every hyperparameter with its value (defaults included)."""
        return dict(self._engine.hyperparameters())

    @property
    def lr(self) -> Optional[float]:
        """The learning rate of the next step; set it to change the following steps."""
        return self._engine.lr

    @lr.setter
    def lr(self, value: float) -> None:
        _number("lr", value)
        self._engine.lr = float(value)

    def set_hyperparameter(self, key: str, value: Any) -> None:
        """Changes one hyperparameter for the following steps (checked against its range)."""
        self._engine.set_hyperparameter(_text("key", key), value)

    @property
    def nonfinite(self) -> str:
        """The non-finite policy: ``"refuse"``, ``"skip"`` or ``"trust"``."""
        return self._engine.nonfinite

    @nonfinite.setter
    def nonfinite(self, policy: str) -> None:
        self._engine.nonfinite = _text("nonfinite", policy)

    @property
    def steps(self) -> int:
        """Steps taken (skipped ones not counted)."""
        return self._engine.steps

    @property
    def skipped_steps(self) -> int:
        """Steps skipped for non-finite gradients under ``nonfinite="skip"``."""
        return self._engine.skipped_steps

    def reset(self) -> None:
        """Forgets all state, as if newly built."""
        self._engine.reset()

    def __repr__(self) -> str:
        return f"<optimist {self._engine.label}>"

    # -- state ---------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything needed to resume: the configuration, the hyperparameters and the
        engine's saved state (bytes). Plain Python values: picklable."""
        dtype, state = self._engine.save_state()
        return {
            "optimist_state": _STATE_VERSION,
            "config": dict(self._config, groups=list(self._config["groups"])),
            "hyperparameters": self.hyperparameters,
            "dtype": dtype,
            "state": state,
            "extra_passes": self._engine.extra_passes,
        }

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Resumes from ``state_dict()``'s result: the next steps are the same, bit for
        bit, as those of the optimizer it came from. Everything is checked and decoded
        into a new engine first: on an error nothing changes."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a dict from state_dict(), not {type(state_dict).__name__}")
        if state_dict.get("optimist_state") != _STATE_VERSION or not isinstance(state_dict.get("state"), bytes):
            raise ValueError("not an optimist state dict: expected the dict state_dict() returns")
        for key in ("config", "hyperparameters", "dtype"):
            if key not in state_dict:
                raise ValueError(f"the state dict has no {key!r} entry; expected the dict state_dict() returns")
        if state_dict["config"] != self._config:
            raise ValueError(
                f"the state is of another optimizer: saved {state_dict['config']!r}, this one is {self._config!r}"
            )
        hyperparameters = state_dict["hyperparameters"]
        if not isinstance(hyperparameters, Mapping):
            raise TypeError(f"the state dict's 'hyperparameters' is {type(hyperparameters).__name__}; expected a dict of names to values")
        dtype = state_dict["dtype"]
        if dtype not in (None, "float32", "float64"):
            raise ValueError(f"the state dict's 'dtype' is {dtype!r}; expected None, 'float32' or 'float64'")
        extra = state_dict.get("extra_passes", 0)
        if isinstance(extra, bool) or not isinstance(extra, int) or extra < 0:
            raise ValueError(f"the state dict's 'extra_passes' is {extra!r}; expected an int >= 0")
        engine = _optimist.Engine(
            self._config["spec"],
            self._config["convention"],
            self._config["groups"],
            self._config["nonfinite"],
            self._config["clip"],
            self._config["schedule"],
        )
        engine.nonfinite = self._engine.nonfinite
        if self._config["schedule"] is None:
            before = dict(engine.hyperparameters())
            for key, value in hyperparameters.items():
                if before.get(key) != value:
                    engine.set_hyperparameter(key, value)
        engine.load_state(dtype, state_dict["state"], extra)
        self._engine = engine

    def __reduce__(self):
        return (_restore, (type(self), self._config, self.state_dict()))


def _restore(cls, config, state):
    opt = Optimizer.__new__(cls)
    Optimizer.__init__(opt, **config)
    opt.load_state_dict(state)
    return opt


def create(
    spec: str,
    *,
    convention: str = "article",
    schedule: Optional[str] = None,
    clip: Optional[str] = None,
    groups: Iterable[str] = (),
    nonfinite: str = "refuse",
) -> Optimizer:
    """Any optimizer by spec, ``NAME[:KEY=VALUE,...]``, e.g.
    ``create("adamw:lr=1e-3,weight_decay=0.01", convention="pytorch")``.

    See ``optimizers()`` for every name with its hyperparameters, and ``Optimizer``
    for the options.
    """
    return Optimizer(spec, convention=convention, schedule=schedule, clip=clip, groups=groups, nonfinite=nonfinite)


def optimizers(convention: Optional[str] = None) -> list:
    """Every optimizer as ``optimist list`` describes it: dicts with ``name``,
    ``convention``, ``formula``, ``paper`` and ``hyperparameters`` (each with ``name``,
    ``default``, ``range`` and ``doc``); only those of ``convention`` if given."""
    infos = _optimist.catalog()
    if convention is not None:
        known = sorted({i["convention"] for i in infos})
        if convention not in known:
            raise ValueError(f"unknown convention {convention!r}; known conventions: {', '.join(known)}")
        infos = [i for i in infos if i["convention"] == convention]
    return infos


def schedules() -> list:
    """Every learning-rate schedule (torch's lr_scheduler names) and the warm-up, with
    their keys, defaults and ranges."""
    return _optimist.schedules()


def _doc(name: str, convention: str, intro: str) -> str:
    """A docstring from the catalog: the formula, the paper and each hyperparameter."""
    info = next(i for i in _optimist.catalog() if i["name"] == name and i["convention"] == convention)
    lines = [intro, "", f"Update: {info['formula']}", "", f"Paper: {info['paper']}", "", "Hyperparameters:"]
    for k in info["hyperparameters"]:
        lines.append(f"  {k['name']} (default {k['default']!r}; {k['range']}): {k['doc']}")
    lines += ["", "Keyword options (schedule, clip, groups, nonfinite) as for ``optimist.Optimizer``."]
    return "\n".join(lines)


class SGD(Optimizer):
    def __init__(self, lr: float = 0.01, **options: Any) -> None:
        super().__init__(f"sgd:lr={_number('lr', lr)}", **options)


class Momentum(Optimizer):
    def __init__(self, lr: float = 0.01, momentum: float = 0.9, **options: Any) -> None:
        super().__init__(f"momentum:lr={_number('lr', lr)},momentum={_number('momentum', momentum)}", **options)


class Nesterov(Optimizer):
    def __init__(self, lr: float = 0.01, momentum: float = 0.9, **options: Any) -> None:
        super().__init__(f"nesterov:lr={_number('lr', lr)},momentum={_number('momentum', momentum)}", **options)


class AdaGrad(Optimizer):
    def __init__(self, lr: float = 0.01, **options: Any) -> None:
        super().__init__(f"adagrad:lr={_number('lr', lr)}", **options)


class RMSprop(Optimizer):
    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, **options: Any) -> None:
        super().__init__(f"rmsprop:lr={_number('lr', lr)},decay_rate={_number('decay_rate', decay_rate)}", **options)


class Adam(Optimizer):
    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, **options: Any) -> None:
        super().__init__(
            f"adam:lr={_number('lr', lr)},beta1={_number('beta1', beta1)},beta2={_number('beta2', beta2)}", **options
        )


for _cls, _name, _intro in [
    (SGD, "sgd", "Stochastic gradient descent, the article's ``SGD(lr=0.01)``."),
    (Momentum, "momentum", "Momentum SGD, the article's ``Momentum(lr=0.01, momentum=0.9)``."),
    (Nesterov, "nesterov", "Nesterov's accelerated gradient, the article's ``Nesterov(lr=0.01, momentum=0.9)``."),
    (AdaGrad, "adagrad", "AdaGrad, the article's ``AdaGrad(lr=0.01)``."),
    (RMSprop, "rmsprop", "RMSprop, the article's ``RMSprop(lr=0.01, decay_rate=0.99)``."),
    (Adam, "adam", "Adam, the article's ``Adam(lr=0.001, beta1=0.9, beta2=0.999)``."),
]:
    _cls.__doc__ = _doc(_name, "article", _intro)
del _cls, _name, _intro
