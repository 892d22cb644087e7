"""The editor's form, built from a definition's JSON Schema (schemas/campaigns.schema.json,
schemas/journeys.schema.json): an object is a group of fields, an array of objects a table of rows, an enum a
choice, a list of enums a comma-separated list, a free-form value (trigger params, a condition's value) YAML.

A form's values go both ways as *raw* text keyed by the field's path, the path the validators name a field by
(``offer.id``, ``audience.static[0].value``): :func:`to_raw` makes them from a definition, :func:`from_form`
makes the definition back from what the user typed, and keeps the typed text so that a form with an error shows
exactly what was typed. :func:`place` puts each error beside the field it names (or the nearest enclosing one).
No Flask here: tested directly."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from touchpoint.clients.campaigns import DefinitionLoader

#: string fields shown as a text area
MULTILINE = {"message"}
_ROW = re.compile(r"^(?P<path>.+)\[(?P<i>\d+)\]\.(?P<name>[^.\[]+)$")


@dataclass
class Leaf:
    """One input: ``kind`` is text, textarea, integer, number, choice, list or yaml."""

    path: str
    name: str
    kind: str
    required: bool = False
    options: tuple[str, ...] = ()
    description: str = ""
    placeholder: str = ""


@dataclass
class Group:
    """An object's fields; ``rows`` is set for an array of objects (then ``children`` are one row's fields, their
    paths relative to the row)."""

    path: str
    name: str
    children: list[Leaf | Group] = field(default_factory=list)
    required: bool = False
    description: str = ""
    rows: bool = False

    def leaves(self) -> list[Leaf]:
        return [c for c in self.children if isinstance(c, Leaf)]


def _resolve(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        merged = dict(root["$defs"][ref.removeprefix("#/$defs/")])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def _enum_values(node: dict) -> tuple[str, ...]:
    if "enum" in node:
        return tuple(str(v) for v in node["enum"] if v is not None)
    values: list[str] = []
    for alt in node.get("anyOf", []):
        values += _enum_values(alt)
    return tuple(values)


def _leaf(path: str, name: str, node: dict, required: bool) -> Leaf:
    desc = node.get("description", "")
    kind, options, placeholder = "text", _enum_values(node), ""
    typ = node.get("type")
    if typ == "array":
        items = node.get("items", {})
        kind, options = "list", _enum_values(items)
        placeholder = ", ".join(options[:2]) if options else "a, b"
    elif "enum" in node:
        kind = "choice"
    elif "anyOf" in node:
        kind = "text"  # suggestions (a datalist) but free text: e.g. quota_<n>mb trigger kinds
    elif typ == "integer":
        kind = "integer"
    elif typ == "number":
        kind = "number"
    elif typ == "object" or typ is None:
        kind = "yaml"  # free form: trigger params, a condition's value
        placeholder = "YAML, e.g. {region_kind: mall}" if typ == "object" else "YAML: false, 3, [a, b], text"
    elif name in MULTILINE:
        kind = "textarea"
    if node.get("format") == "date-time":
        placeholder = "2026-11-01T00:00:00+08:00"
    if "default" in node and not placeholder:
        placeholder = f"default: {node['default']}"
    return Leaf(path, name, kind, required, options, desc, placeholder)


def layout(schema: dict) -> Group:
    """The form of a definition schema."""
    return _group("", "", schema, schema, True)


def _group(path: str, name: str, node: dict, root: dict, required: bool) -> Group:
    g = Group(path, name, required=required, description=node.get("description", ""))
    need = set(node.get("required", []))
    for key, child in node.get("properties", {}).items():
        child = _resolve(child, root)
        p = f"{path}.{key}" if path else key
        items = _resolve(child.get("items", {}), root)
        if child.get("type") == "object" and "properties" in child:
            g.children.append(_group(p, key, child, root, key in need))
        elif child.get("type") == "array" and items.get("type") == "object":
            rows = _group(p, key, items, root, key in need)
            rows.rows, rows.description = True, child.get("description", "")
            g.children.append(rows)
        else:
            g.children.append(_leaf(p, key, child, key in need))
    return g


# --- definition -> raw text -----------------------------------------------------------------------------------


def _text(kind: str, value: Any) -> str:
    if kind == "list" and isinstance(value, list):
        return ", ".join(map(str, value))
    if kind == "yaml":  # JSON is YAML, and always one line (the field is one line)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_raw(form: Group, obj: Mapping[str, Any]) -> dict[str, str]:
    """The raw text of each field of a definition."""
    raw: dict[str, str] = {}
    for c in form.children:
        if c.name not in obj:
            continue
        value = obj[c.name]
        if isinstance(c, Leaf):
            raw[c.path] = _text(c.kind, value)
        elif c.rows and isinstance(value, list):
            for i, item in enumerate(value):
                for leaf in c.leaves():
                    if isinstance(item, Mapping) and leaf.name in item:
                        raw[f"{c.path}[{i}].{leaf.name}"] = _text(leaf.kind, item[leaf.name])
        elif isinstance(value, Mapping):
            raw |= to_raw(c, value)
    return raw


def row_count(rows: Group, raw: Mapping[str, str]) -> int:
    """Rows of an array field holding something."""
    indexes = [int(m["i"]) for k in raw if (m := _ROW.match(k)) and m["path"] == rows.path]
    return max(indexes) + 1 if indexes else 0


# --- raw text -> definition -----------------------------------------------------------------------------------


def _value(leaf: Leaf, text: str, errors: dict[str, str], path: str) -> Any:
    """The typed value of a field's text; a wrong type stays as typed, so the schema names the field."""
    if leaf.kind in ("text", "choice"):
        return text.strip()
    if leaf.kind == "textarea":
        return text.replace("\r\n", "\n")
    if leaf.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if leaf.kind in ("integer", "number"):
        t = text.strip()
        for cast in (int, float):
            try:
                return cast(t)
            except ValueError:
                pass
        return t
    try:
        return yaml.load(text, Loader=DefinitionLoader)  # noqa: S506
    except yaml.YAMLError as e:
        errors[path] = f"not valid YAML: {' '.join(str(e).split())}"
        return None


def from_form(form: Group, values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(the definition, the raw text to show again, errors of the text itself) from a submitted form. Empty fields
    are left out; empty rows are dropped and the rest numbered again, raw text included, so that the validators'
    paths name the rows as shown."""
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    obj = _collect(form, values, "", raw, errors)
    return obj, raw, errors


def _collect(g: Group, values: Mapping[str, str], prefix: str, raw: dict, errors: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in g.children:
        here = rel(c.path, g.path, prefix)
        if isinstance(c, Leaf):
            text = values.get(here, "")
            if text.strip():
                raw[here] = text
                v = _value(c, text, errors, here)
                if v is not None and v != []:
                    out[c.name] = v
        elif c.rows:
            items = []
            for i in _submitted_rows(values, here):
                row_values = {
                    f"{here}[{len(items)}].{leaf.name}": values.get(f"{here}[{i}].{leaf.name}", "")
                    for leaf in c.leaves()
                }
                if any(v.strip() for v in row_values.values()):
                    items.append(_collect(c, row_values, f"{here}[{len(items)}]", raw, errors))
            if items:
                out[c.name] = items
        else:
            inner = _collect(c, values, here, raw, errors)
            if inner or c.required:
                out[c.name] = inner
    return out


def rel(path: str, group_path: str, prefix: str) -> str:
    """A child's path under the row or group being collected (a row's fields are relative to the row)."""
    if not prefix:
        return path
    tail = path[len(group_path) + 1 :] if group_path else path
    return f"{prefix}.{tail}"


def _submitted_rows(values: Mapping[str, str], path: str) -> list[int]:
    return sorted({int(m["i"]) for k in values if (m := _ROW.match(k)) and m["path"] == path})


# --- errors beside fields -------------------------------------------------------------------------------------


def paths(form: Group, raw: Mapping[str, str], extra_rows: int = 1) -> set[str]:
    """Every path the form shows for ``raw``: fields, groups, tables and rows (the root is '')."""
    out = {""}

    def walk(g: Group, prefix: str) -> None:
        for c in g.children:
            here = rel(c.path, g.path, prefix)
            out.add(here)
            if isinstance(c, Group) and c.rows:
                for i in range(row_count(c, raw) + extra_rows):
                    out.add(f"{here}[{i}]")
                    walk(c, f"{here}[{i}]")
            elif isinstance(c, Group):
                walk(c, here)

    walk(form, "")
    return out


def place(errors: list[tuple[str, str]], shown: set[str]) -> dict[str, list[str]]:
    """Each ``(field, message)`` under the nearest shown path enclosing the field (the whole form: ''), written as
    the CLI writes it: ``field: message``."""
    placed: dict[str, list[str]] = {}
    for f, message in errors:
        at = f if not f.startswith("(") else ""
        while at and at not in shown:
            at = at[: max(at.rfind("."), at.rfind("["), 0)]
        placed.setdefault(at, []).append(f"{f}: {message}")
    return placed
