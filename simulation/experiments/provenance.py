"""Provenance of runs and sweeps: package versions and UTC time stamps."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata

PACKAGES = ("sharelab", "mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def utc_stamp() -> str:
    """The current UTC time, for folder names."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
