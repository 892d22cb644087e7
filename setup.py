"""What pyproject.toml cannot say: the repository's top-level folders of SQL, schemas, dashboards, examples and
JVM sources go into the wheel as packages inside ``touchpoint.resources`` (touchpoint/resources/__init__.py lists
them; it is read here, not imported, since nothing is installed while this runs), so an installed Touchpoint finds
them without the source tree. Everything else is in pyproject.toml."""

import ast
from pathlib import Path

from setuptools import find_packages, setup


def _constant(name: str):
    tree = ast.parse(Path("touchpoint/resources/__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(getattr(t, "id", None) == name for t in targets):
                return ast.literal_eval(node.value)
    raise LookupError(name)


SHIPPED, FILES = _constant("SHIPPED"), _constant("FILES")
RESOURCES = {f"touchpoint.resources.{name}": folder for name, folder in SHIPPED.items()}

setup(
    packages=find_packages(include=["touchpoint*", "jobs*", "udfs*"]) + list(RESOURCES),
    package_dir=RESOURCES,
    package_data={f"touchpoint.resources.{name}": globs for name, globs in FILES.items()}
    | {"touchpoint.console": ["templates/*.html", "static/*"]},
)
