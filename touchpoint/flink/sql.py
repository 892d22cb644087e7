"""SQL recipes as files: ``sql/<job>/<step>.sql`` read, ``${name}`` placeholders filled, split into statements.

A recipe is plain Flink SQL with a header comment saying why it exists. Only ``${name}`` is a placeholder (so
regular expressions such as ``'^[0-9]+$'`` stay as written); the values come from the settings and the job.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from touchpoint.resources import resource_dir

SQL_DIR = resource_dir("sql")


class _SqlTemplate(Template):
    """Only ``${name}`` is a placeholder, so regex anchors like ``'^[0-9]+$'`` stay as written."""

    pattern = r"\$\{(?P<braced>[_a-z][_a-z0-9]*)\}(?P<escaped>(?!))?(?P<named>(?!))?(?P<invalid>(?!))?"


def split_statements(text: str) -> list[str]:
    """Split a SQL script on ``;`` outside quotes, dropping ``--`` comments and empty statements."""
    out, buf, quote = [], [], None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'`":
            quote = ch
            buf.append(ch)
        elif text.startswith("--", i):
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if s.strip()]


def render(path: str | Path, **params: object) -> list[str]:
    """Read ``sql/<path>``, substitute ``${name}`` placeholders, split into statements."""
    p = Path(path)
    text = (p if p.is_absolute() else SQL_DIR / p).read_text()
    try:
        text = _SqlTemplate(text).substitute({k: str(v) for k, v in params.items()})
    except KeyError as e:
        raise KeyError(f"{path}: no value for placeholder {e}") from None
    return split_statements(text)


class SqlError(RuntimeError):
    """A SQL recipe was rejected by Flink; the message names the file."""
