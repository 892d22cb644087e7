"""The code keeps the shape docs/architecture.md describes: imports go one way, CLI -> harness -> console -> tools
-> runner -> jobs -> Flink plumbing -> services -> rules and config, with no import cycle (so nothing of the
product imports the harness); the rules in udfs/ stay pure Python;
the repository stands alone (no reference to documents outside it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from touchpoint import ROOT

#: Lowest first. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("rules and config", ("udfs", "touchpoint", "touchpoint.config", "touchpoint.schemas", "touchpoint.reference")),
    ("services", ("touchpoint.infra", "touchpoint.clients", "touchpoint.clickhouse", "touchpoint.dashboards")),
    (
        "Flink plumbing",
        ("touchpoint.flink.sql", "touchpoint.flink.environment", "touchpoint.flink.pipeline", "touchpoint.flink"),
    ),
    ("jobs", ("jobs",)),
    ("runner", ("touchpoint.runner",)),
    ("tools", ("touchpoint.tools",)),
    ("console", ("touchpoint.console",)),
    ("harness", ("touchpoint.harness",)),
    ("CLI", ("touchpoint.cli",)),
]
PACKAGES = ("touchpoint", "jobs", "udfs")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Project modules ``name`` imports, at module level or inside functions."""
    path = MODULES[name]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _layer(module: str) -> int:
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best[1])):
                best = (i, p)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best[0]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    mine = _layer(module)
    up = [f"{t} ({LAYERS[_layer(t)][0]})" for t in sorted(_imports(module)) if _layer(t) > mine]
    assert not up, f"{module} ({LAYERS[mine][0]}) imports upwards: {', '.join(up)}"


def test_no_import_cycles():
    graph = {m: _imports(m) for m in MODULES}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(n) :] + [n]))
            if n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_rules_are_pure_python():
    """udfs/ is unit-tested without Flink and is imported by the jobs' Python operators: no Flink, no services."""
    for name, path in MODULES.items():
        if name.startswith("udfs"):
            text = path.read_text()
            assert not re.search(r"^\s*(from|import) (pyflink|touchpoint|jobs)\b", text, re.M), name


def test_every_module_says_its_role():
    missing = [n for n, p in MODULES.items() if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not missing, f"modules without a docstring: {missing}"


def test_the_repository_stands_alone():
    """Code and docs point to files of this repository, not to design notes or issue numbers it does not ship."""
    exts = {".py", ".md", ".sql", ".yaml", ".toml", ".sh"}
    files = [
        p
        for p in ROOT.rglob("*")
        if p.suffix in exts
        and p.is_file()
        and not {".venv", "work", ".git", "node_modules", ".pytest_cache"} & set(p.relative_to(ROOT).parts)
    ]
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"DESIGN\.md|\.\./shared|\bissue #\d+", line) and p != Path(__file__)
    ]
    assert not offenders, offenders


#: What a reader can hold at once: no function over this many lines, no module over that many (tests apart).
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 500


def test_no_giants():
    found = []
    for name, path in sorted(MODULES.items()):
        text = path.read_text()
        if (n := text.count("\n")) > MAX_MODULE_LINES:
            found.append(f"{name}: {n} lines")
        for node in ast.walk(ast.parse(text)):
            is_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if is_function and (n := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                found.append(f"{name}.{node.name}: {n} lines")
    assert not found, f"split these: {found}"
