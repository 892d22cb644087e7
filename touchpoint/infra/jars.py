"""Fetch the Flink Kafka connector jars from their PyPI wheel and extract them into the work dir.

The connector is only published for our Flink line inside ``shigawire-apache-flink-libraries``; that
wheel also ships a whole second copy of PyFlink's libs, so it is downloaded (not installed) and only the
two jars we need are extracted. Both the wheel and the jars are checked against pinned SHA-256 sums.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from touchpoint.infra.wheels import fetch_pinned_wheel, sha256

WHEEL = "shigawire-apache-flink-libraries==2.0.0.post1"
WHEEL_FILE = "shigawire_apache_flink_libraries-2.0.0.post1-py3-none-any.whl"
WHEEL_SHA256 = "aaa65537d3f0c0ff279185d8243024f0efd95788ba044bf249ba0f40b69289cd"
#: member in the wheel -> (file name we give it, sha256)
JARS = {
    "pyflink/lib/flink-connector-kafka.jar": (
        "flink-connector-kafka-4.0.1-2.0.jar",
        "842885a51c768b2f31c946a2071656c166ee8cc6d3c02fe6c557e134e03bf228",
    ),
    "pyflink/lib/kafka-clients.jar": (
        "kafka-clients-3.9.1.jar",
        "7568b998572d256f0b7bc0afdc1b7a2588b8b08415c62ce314c864a6851ae9d9",
    ),
}


class JarError(RuntimeError):
    pass


def jar_paths(jars_dir: Path) -> list[Path]:
    return [jars_dir / name for name, _ in JARS.values()]


def jars_ok(jars_dir: Path) -> bool:
    return all((jars_dir / name).exists() and sha256(jars_dir / name) == sha for name, sha in JARS.values())


def ensure_jars(jars_dir: Path, cache_dir: Path) -> list[Path]:
    """Idempotent: download the wheel once into ``cache_dir``, extract and verify the jars."""
    if jars_ok(jars_dir):
        return jar_paths(jars_dir)
    wheel = fetch_pinned_wheel(WHEEL, WHEEL_FILE, WHEEL_SHA256, cache_dir)
    jars_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for member, (name, sha) in JARS.items():
            target = jars_dir / name
            target.write_bytes(z.read(member))
            if sha256(target) != sha:
                target.unlink()
                raise JarError(f"checksum mismatch for {member} in {wheel.name}")
    return jar_paths(jars_dir)


if __name__ == "__main__":
    from touchpoint.config import load_settings

    s = load_settings()
    for p in ensure_jars(s.paths.jars, s.paths.work_dir / "cache"):
        print(p)
