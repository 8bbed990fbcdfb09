"""Starlette's `TestClient`, imported without the warning it gives about httpx.

Starlette asks for its own successor of httpx, while the project installs httpx; the warning is
raised at import time, which the suite turns into an error, so every test imports it from here.
"""

import warnings
from collections.abc import Callable

from fastapi import FastAPI

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

#: A fixture building an app from options (as the reconciler API tests' `make_app`).
MakeApp = Callable[..., FastAPI]

__all__ = ["MakeApp", "TestClient"]
