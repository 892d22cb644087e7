"""Touchpoint's own JVM functions (``jvm/src``), compiled with the Debian JDK into ``touchpoint-functions.jar``.

Only what measurably needs the JVM lives there (the ingest parser: docs/performance.md). The jar is rebuilt when
the sources change: it carries the SHA-256 of its sources, so a stale jar is never used. ``make setup`` builds it;
a job that finds it missing or stale builds it too (a second or two), from files in this repository only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from touchpoint.resources import resource_dir

SOURCES = resource_dir("jvm")
JAR_NAME = "touchpoint-functions.jar"
_STAMP = "META-INF/touchpoint-sources.sha256"


class FunctionsError(RuntimeError):
    pass


def _sources() -> list[Path]:
    return sorted(SOURCES.rglob("*.java"))


def sources_digest() -> str:
    h = hashlib.sha256()
    for src in _sources():
        h.update(src.relative_to(SOURCES).as_posix().encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()


def _flink_lib() -> Path:
    import pyflink

    return Path(pyflink.__file__).parent / "lib"


def _built_digest(jar: Path) -> str | None:
    try:
        with zipfile.ZipFile(jar) as z:
            return z.read(_STAMP).decode().strip()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def functions_jar(jars_dir: Path) -> Path:
    """The jar of ``jvm/src``, (re)built if missing or older than its sources."""
    jar = jars_dir / JAR_NAME
    digest = sources_digest()
    if _built_digest(jar) == digest:
        return jar
    javac = shutil.which("javac")
    if javac is None:
        raise FunctionsError("javac not found: run `make setup` (installs the Debian package openjdk-17-jdk-headless)")
    jars_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="touchpoint-javac-") as tmp:
        classes = Path(tmp) / "classes"
        cmd = [javac, "--release", "17", "-nowarn", "-cp", str(_flink_lib() / "*"), "-d", str(classes)]
        done = subprocess.run(cmd + [str(s) for s in _sources()], capture_output=True, text=True)
        if done.returncode != 0:
            raise FunctionsError(f"compiling {SOURCES} failed:\n{done.stderr.strip()}")
        # Written beside the target and renamed: a concurrent job never sees half a jar.
        fd, partial = tempfile.mkstemp(dir=jars_dir, suffix=".jar.part")
        os.close(fd)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
            for cls in sorted(classes.rglob("*.class")):
                z.write(cls, cls.relative_to(classes).as_posix())
            z.writestr(_STAMP, digest + "\n")
        os.replace(partial, jar)
    return jar


if __name__ == "__main__":
    from touchpoint.config import load_settings

    print(functions_jar(load_settings().paths.jars))
