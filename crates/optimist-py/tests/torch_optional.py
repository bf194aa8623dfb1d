"""torch for the tests that also have a numpy half: required in CI, else optional."""

import os

import pytest

if os.environ.get("CI"):
    import torch
else:
    try:
        import torch
    except ImportError:
        torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
