"""Touchpoint: real-time precision marketing on Apache Flink (PyFlink)."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root; SQL recipes, schemas and dashboards are read from here.
ROOT = Path(__file__).resolve().parent.parent
