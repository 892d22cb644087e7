"""touchpoint/infra/functions.py: the JVM functions' jar is compiled from jvm/src and never used stale."""

from __future__ import annotations

import zipfile

from touchpoint.infra import functions


def test_jar_is_built_from_the_sources_and_rebuilt_when_they_change(tmp_path, monkeypatch):
    jar = functions.functions_jar(tmp_path)
    names = zipfile.ZipFile(jar).namelist()
    assert {"touchpoint/ingest/CheckSignaling.class", "touchpoint/ingest/CheckXdr.class"} <= set(names)
    built = jar.stat().st_mtime_ns
    assert functions.functions_jar(tmp_path) == jar and jar.stat().st_mtime_ns == built  # current: left alone
    monkeypatch.setattr(functions, "sources_digest", lambda: "0" * 64)  # as if a source had changed
    functions.functions_jar(tmp_path)
    assert zipfile.ZipFile(jar).read("META-INF/touchpoint-sources.sha256").decode().strip() == "0" * 64
    assert not list(tmp_path.glob("*.part"))
