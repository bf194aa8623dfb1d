import os
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, os.PathLike[str]]

class Figure:
    data: bytes
    kind: str
    def __init__(self, data: bytes, kind: str) -> None: ...
    def _repr_png_(self) -> Optional[bytes]: ...
    def _repr_svg_(self) -> Optional[str]: ...
    def _repr_html_(self) -> Optional[str]: ...
    def save(self, path: PathLike) -> Path: ...

class Run:
    spec: str
    name: str
    hyperparameters: dict[str, str]
    trajectory: np.ndarray
    diverged_at: Optional[int]
    @property
    def status(self) -> str: ...
    @property
    def diverged(self) -> bool: ...
    @property
    def x(self) -> np.ndarray: ...
    @property
    def y(self) -> np.ndarray: ...
    @property
    def loss(self) -> np.ndarray: ...

class CompareResult:
    runs: list[Run]
    landscape: dict[str, Any]
    @property
    def trajectories(self) -> dict[str, np.ndarray]: ...
    def figure(self, view: str = "grid", format: str = "png") -> Figure: ...
    def save(self, path: PathLike, view: Optional[str] = None) -> Path: ...
    def csv(self) -> str: ...
    def _repr_png_(self) -> bytes: ...

def compare(
    function: str = "article",
    optimizers: Sequence[str] = ...,
    start: Optional[Tuple[float, float]] = None,
    steps: Optional[int] = None,
    tune: bool = False,
    *,
    convention: str = "article",
    window: Optional[Tuple[float, float, float, float]] = None,
    schedule: Optional[str] = None,
    clip: Optional[str] = None,
    memory_limit: Union[int, str, None] = None,
) -> CompareResult: ...
def landscapes() -> list[dict[str, Any]]: ...

class TrainRun:
    spec: str
    label: str
    losses: np.ndarray
    smoothed: np.ndarray
    diverged_at: Optional[int]
    train_loss: float
    train_accuracy: float
    accuracy: float
    seconds: float

class TrainResult:
    runs: list[TrainRun]
    sizes: list[int]
    train_size: int
    eval_size: int
    eval_set: str
    note: Optional[str]
    seconds: float
    @property
    def losses(self) -> dict[str, np.ndarray]: ...
    def figure(self, format: str = "png") -> Figure: ...
    def _repr_png_(self) -> bytes: ...

def train(
    optimizers: Sequence[str] = ...,
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
) -> TrainResult: ...
