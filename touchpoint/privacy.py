"""Keyed pseudonyms of subscribers: what the analytics tables hold instead of MSISDN, IMSI and IMEI.

A pseudonym is the first 16 hex digits (64 bits) of HMAC-SHA256(key, "<kind>:<value>"). The same number always
gets the same pseudonym, so counts, joins and per-subscriber views work on pseudonyms as they did on numbers.
Without the key a pseudonym cannot be reversed or recomputed: a plain hash of a phone number can, by trying all
numbers. The kind keeps an IMEI and an MSISDN with the same digits apart. docs/privacy.md lists what holds what.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from touchpoint.config import Settings, read_secret

#: Fields that identify a subscriber or a handset, wherever they appear (a record, a trigger's context, a dead
#: letter's raw text), and the kind of number each holds.
PERSONAL_FIELDS: dict[str, str] = {
    "msisdn": "msisdn",
    "calling_number": "msisdn",
    "called_number": "msisdn",
    "forward_to": "msisdn",
    "imsi": "imsi",
    "imei": "imei",
    "old_imei": "imei",
    "new_imei": "imei",
    "last_imei": "imei",
}
#: A run of this many digits or more in text that is not JSON (a broken record) may be a number; it is replaced.
_DIGITS = re.compile(r"\d{6,}")


def key_file(settings: Settings) -> Path:
    """Where the key made for an installation without a configured one lives."""
    return settings.paths.work_dir / "secrets" / "pseudonym.key"


def pseudonym_key(settings: Settings) -> bytes:
    """The configured key (``privacy.pseudonym_key`` or ``_file``), else this installation's own: made once,
    random, in a file only its owner reads. Every process of one installation gets the same key."""
    p = settings.privacy
    configured = read_secret(p.pseudonym_key, p.pseudonym_key_file, "privacy.pseudonym_key")
    if configured:
        return configured.encode()
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic: if two processes race, the first key stays and both use it
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip().encode()


class Pseudonymiser:
    """Pseudonyms under one key; a value seen before is answered from a cache (subscribers recur)."""

    def __init__(self, key: bytes):
        self._key = key
        self.pseudonym = lru_cache(maxsize=1 << 17)(self._pseudonym)

    @classmethod
    def of(cls, settings: Settings) -> Pseudonymiser:
        return cls(pseudonym_key(settings))

    def _pseudonym(self, kind: str, value: str) -> str:
        if not value:
            return ""  # absent stays absent
        return hmac.digest(self._key, f"{kind}:{value}".encode(), "sha256")[:8].hex()

    def msisdn(self, value: str) -> str:
        return self.pseudonym("msisdn", value)

    def redact(self, value: Any) -> Any:
        """``value`` with every personal field (at any depth) replaced by its pseudonym."""
        if isinstance(value, dict):
            return {
                k: self.pseudonym(PERSONAL_FIELDS[k], str(v))
                if k in PERSONAL_FIELDS and isinstance(v, (str, int)) and not isinstance(v, bool)
                else self.redact(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value

    def redact_text(self, text: str) -> str:
        """Raw text of a record: JSON with its personal fields pseudonymised, else every long digit run."""
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, (dict, list)):
            redacted = self.redact(parsed)
            return text if redacted == parsed else orjson.dumps(redacted).decode()  # as it came, if nothing to hide
        return _DIGITS.sub(lambda m: "#" + self.msisdn(m.group()), text)
