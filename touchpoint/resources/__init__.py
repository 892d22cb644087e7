"""Where Touchpoint finds the files it ships beside its code: the SQL recipes and ClickHouse migrations, the
JSON Schemas, the Grafana dashboards, the example campaigns and journeys, the JVM functions' sources.

In a source checkout they are the repository's top-level folders (``sql/``, ``schemas/``, ...: the layout Flink
projects use). A wheel carries the same folders inside this package (setup.py maps each one here), so an
installed Touchpoint needs no source tree: ``pip install touchpoint-*.whl`` and run it from anywhere.
"""

from __future__ import annotations

from pathlib import Path

from touchpoint import ROOT

#: resource name (its folder inside this package, in a wheel) -> its folder in the repository
SHIPPED = {
    "sql": "sql",
    "schemas": "schemas",
    "grafana": "grafana",
    "campaigns": "campaigns",
    "journeys": "journeys",
    "jvm": "jvm/src",
}
#: the files of each that a wheel carries (setup.py's package data)
FILES = {
    "sql": ["**/*.sql"],
    "schemas": ["**/*.json"],
    "grafana": ["dashboards/*.json", "provisioning/**/*.yaml"],
    "campaigns": ["*.yaml"],
    "journeys": ["*.yaml"],
    "jvm": ["**/*.java"],
}


def resource_dir(name: str) -> Path:
    """The folder of resource ``name`` (a key of :data:`SHIPPED`): inside the installed package, else the
    repository's."""
    inside = Path(__file__).parent / name
    return inside if inside.is_dir() else ROOT / SHIPPED[name]
