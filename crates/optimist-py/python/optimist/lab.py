"""Races on landscapes with their figures, and the book's network experiment: the
command line's ``optimist compare`` and ``optimist train`` from Python."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import _optimist

__all__ = ["compare", "landscapes", "train", "CompareResult", "Run", "Figure", "TrainResult", "TrainRun"]

PathLike = Union[str, "os.PathLike[str]"]

_EXTENSIONS = {".png": ("png", None), ".svg": ("svg", None), ".gif": (None, "gif"), ".html": (None, "html")}


def _write_atomic(path: PathLike, data: bytes) -> Path:
    """Writes ``data`` to a temporary file beside ``path`` and renames it over."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class Figure:
    """A figure: PNG bytes (shown inline in Jupyter), or SVG text, GIF or HTML."""

    def __init__(self, data: bytes, kind: str) -> None:
        self.data = data
        self.kind = kind

    def _repr_png_(self) -> Optional[bytes]:
        return self.data if self.kind == "png" else None

    def _repr_svg_(self) -> Optional[str]:
        return self.data.decode() if self.kind == "svg" else None

    def _repr_html_(self) -> Optional[str]:
        if self.kind == "html":
            return self.data.decode()
        if self.kind == "gif":
            import base64

            return f'<img src="data:image/gif;base64,{base64.b64encode(self.data).decode()}"/>'
        return None

    def save(self, path: PathLike) -> Path:
        """Writes the figure to ``path`` whole (a temporary file renamed over it)."""
        return _write_atomic(path, self.data)

    def __repr__(self) -> str:
        return f"<optimist Figure: {self.kind}, {len(self.data)} bytes>"


@dataclass
class Run:
    """One optimizer's run: its trajectory (rows x, y, loss: the start, then each step
    while finite) and how it ended."""

    spec: str
    name: str
    hyperparameters: dict
    trajectory: np.ndarray
    diverged_at: Optional[int]

    @property
    def status(self) -> str:
        """``"finished"``, or ``"diverged at step K"``."""
        return "finished" if self.diverged_at is None else f"diverged at step {self.diverged_at}"

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def x(self) -> np.ndarray:
        return self.trajectory[:, 0]

    @property
    def y(self) -> np.ndarray:
        return self.trajectory[:, 1]

    @property
    def loss(self) -> np.ndarray:
        return self.trajectory[:, 2]


class CompareResult:
    """A race's runs (``runs``, by spec in ``trajectories``) and its views: ``figure()``
    and ``save()``. Shows as the article's grid in Jupyter."""

    def __init__(self, race: "_optimist.Race") -> None:
        self._race = race
        self.runs = [
            Run(r["spec"], r["name"], dict(r["hyperparameters"]), r["trajectory"], r["diverged_at"]) for r in race.runs()
        ]
        name, formula, window, minima = race.landscape()
        self.landscape = {"name": name, "formula": formula, "window": window, "minima": minima}

    @property
    def trajectories(self) -> dict:
        """Each run's trajectory array by spec."""
        return {r.spec: r.trajectory for r in self.runs}

    def figure(self, view: str = "grid", format: str = "png") -> Figure:
        """A view of the race: ``"grid"`` (a panel per optimizer), ``"overlay"`` (all on
        one contour plot) or ``"loss"`` (loss against step) as ``format`` png or svg;
        ``"gif"`` (animated) or ``"html"`` (an interactive page)."""
        files = self._race.files(view, format)
        (_, data), = files
        kind = {"gif": "gif", "html": "html"}.get(str(view).strip().lower(), str(format).strip().lower())
        return Figure(data, kind)

    def save(self, path: PathLike, view: Optional[str] = None) -> Path:
        """Writes a view to ``path``, its kind from the extension: ``.png`` or ``.svg``
        (``view`` grid, overlay or loss; grid by default), ``.gif`` (the animation) or
        ``.html`` (the interactive page)."""
        ext = Path(path).suffix.lower()
        if ext not in _EXTENSIONS:
            raise ValueError(f"cannot tell what to write from {str(path)!r}; expected a name ending in .png, .svg, .gif or .html")
        fmt, fixed = _EXTENSIONS[ext]
        if fixed is not None:
            if view not in (None, fixed):
                raise ValueError(f"a {ext} file holds the {fixed} view, not {view!r}")
            figure = self.figure(fixed)
        else:
            figure = self.figure(view or "grid", fmt)
        return figure.save(path)

    def csv(self) -> str:
        """``optimizer,step,x,y,loss`` rows, as ``optimist compare`` writes them."""
        return self._race.csv()

    def _repr_png_(self) -> bytes:
        return self.figure("grid").data

    def __repr__(self) -> str:
        lines = [f"<optimist race on {self.landscape['name']} ({self.landscape['formula']}):"]
        for r in self.runs:
            x, y, loss = r.trajectory[-1] if len(r.trajectory) else (float("nan"),) * 3
            lines.append(f"  {r.spec}: ({x:.6g}, {y:.6g}), loss {loss:.6g}, {r.status}")
        return "\n".join(lines) + ">"


def compare(
    function: str = "article",
    optimizers: Sequence[str] = ("sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3"),
    start: Optional[Tuple[float, float]] = None,
    steps: Optional[int] = None,
    tune: bool = False,
    *,
    convention: str = "article",
    window: Optional[Tuple[float, float, float, float]] = None,
    schedule: Optional[str] = None,
    clip: Optional[str] = None,
    memory_limit: Union[int, str, None] = None,
) -> CompareResult:
    """Races ``optimizers`` (specs) on ``function`` (a built-in landscape such as
    ``"rosenbrock"``, or a formula in x and y) from ``start`` (the landscape's classic
    start by default) for ``steps`` updates (30 on the article's landscape, else 100),
    in float64, as ``optimist compare`` does. With ``tune=True`` each optimizer's
    learning rate is first tuned on the landscape. Returns a ``CompareResult``.

    As ``optimist compare`` does, a race whose memory is estimated above
    ``memory_limit`` (bytes, or a size such as ``"8G"``; by default half this
    machine's memory) raises ``MemoryError`` before it starts."""
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    if steps is None:
        steps = 30 if str(function).strip().lower() == "article" else 100
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, not {type(steps).__name__}")
    if not 1 <= steps <= 10_000_000:
        raise ValueError(f"steps = {steps} is out of range; allowed: 1 to 10,000,000")
    if start is not None:
        start = tuple(float(v) for v in start)
        if len(start) != 2:
            raise ValueError(f"start must be two numbers (x, y), not {len(start)}")
    race = _optimist.compare(
        function, list(optimizers), start, steps, bool(tune), convention, window, schedule, clip, memory_limit
    )
    return CompareResult(race)


def landscapes() -> list:
    """Every built-in landscape: dicts with ``name``, ``formula``, ``window``,
    ``minima`` and ``start``."""
    return [
        {"name": n, "formula": f, "window": w, "minima": m, "start": s} for n, f, w, m, s in _optimist.landscapes()
    ]


@dataclass
class TrainRun:
    """One optimizer's network: its loss after every iteration (float32), smoothed as
    the book's figure, and its final accuracy."""

    spec: str
    label: str
    losses: np.ndarray
    smoothed: np.ndarray
    diverged_at: Optional[int]
    train_loss: float
    train_accuracy: float
    accuracy: float
    seconds: float


@dataclass
class TrainResult:
    """The experiment's runs and its loss figure (shown inline in Jupyter)."""

    runs: list
    sizes: list
    train_size: int
    eval_size: int
    eval_set: str
    note: Optional[str]
    seconds: float
    _png: bytes = field(repr=False, default=b"")
    _svg: str = field(repr=False, default="")

    @property
    def losses(self) -> dict:
        """Each run's losses by spec."""
        return {r.spec: r.losses for r in self.runs}

    def figure(self, format: str = "png") -> Figure:
        """The loss curves (raw and smoothed), as ``optimist train`` draws them."""
        if format == "png":
            return Figure(self._png, "png")
        if format == "svg":
            return Figure(self._svg.encode(), "svg")
        raise ValueError(f"unknown figure format {format!r}; expected png or svg")

    def _repr_png_(self) -> bytes:
        return self._png


def _default_data() -> Path:
    candidates = [Path("data/mnist")]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(Path(cache) / "optimist" / "mnist")
    for c in candidates:
        if c.is_dir():
            return c
    raise ValueError(
        "no MNIST folder found (looked in data/mnist and the cache folder); pass data='DIR' holding t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or run `optimist data mnist`)"
    )


def train(
    optimizers: Sequence[str] = ("sgd:lr=0.01", "momentum:lr=0.01", "adagrad:lr=0.01", "adam:lr=0.001"),
    data: Optional[PathLike] = None,
    *,
    iterations: int = 2000,
    batch_size: int = 128,
    hidden: Sequence[int] = (100, 100, 100, 100),
    seed: int = 2024,
    convention: str = "article",
    schedule: Optional[str] = None,
    clip: Optional[str] = None,
    groups: Sequence[str] = (),
    nonfinite: str = "refuse",
    memory_limit: Union[int, str, None] = None,
) -> TrainResult:
    """The book's network experiment (784 → 100×4 → 10, ReLU, He initialization) on
    MNIST in ``data`` (default ``data/mnist``, else the cache folder): every optimizer
    trains its own copy from the same weights on the same mini-batches. Returns each
    run's loss curve as arrays. Without the training files, 8,000 of the test images
    are trained on and the other 2,000 held out. As ``optimist train`` does, a run
    whose memory is estimated above ``memory_limit`` (bytes, or a size such as
    ``"8G"``; by default half this machine's memory) raises ``MemoryError`` before
    training."""
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    data = Path(data) if data is not None else _default_data()
    d = _optimist.train(
        str(data),
        list(optimizers),
        iterations,
        batch_size,
        list(hidden),
        seed,
        convention,
        schedule,
        clip,
        list(groups),
        nonfinite,
        memory_limit,
    )
    runs = [TrainRun(**r) for r in d["runs"]]
    return TrainResult(
        runs=runs,
        sizes=d["sizes"],
        train_size=d["train_size"],
        eval_size=d["eval_size"],
        eval_set=d["eval_set"],
        note=d["note"],
        seconds=d["seconds"],
        _png=d["png"],
        _svg=d["svg"],
    )
