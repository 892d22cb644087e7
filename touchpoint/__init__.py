"""Touchpoint: real-time precision marketing on Apache Flink (PyFlink)."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root in a source checkout (sql/, schemas/, ... beside the packages); where the packages are
#: installed otherwise, which holds no data: shipped files are found through touchpoint.resources.
ROOT = Path(__file__).resolve().parent.parent
#: What the default paths of generated files (``work/``) are relative to: the repository in a source checkout,
#: else the directory Touchpoint runs in.
HOME = ROOT if (ROOT / "pyproject.toml").is_file() else Path.cwd()
