"""touchpoint/privacy.py: the keyed pseudonym, the installation's own key, and `touchpoint privacy pseudonym`."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess

from tests.support import TOUCHPOINT, make_settings
from touchpoint.privacy import Pseudonymiser, key_file, pseudonym_key


def test_pseudonym_is_a_keyed_hash_by_kind():
    p = Pseudonymiser(b"k1")
    want = hmac.new(b"k1", b"msisdn:13951234567", hashlib.sha256).hexdigest()[:16]
    assert p.msisdn("13951234567") == want == p.pseudonym("msisdn", "13951234567")
    assert p.pseudonym("imei", "13951234567") != want  # the kind keeps numbers of different kinds apart
    assert Pseudonymiser(b"k2").msisdn("13951234567") != want  # another key, another pseudonym
    assert p.msisdn("") == ""  # absent stays absent


def test_redact_hides_personal_fields_at_any_depth_and_digit_runs_in_text():
    p = Pseudonymiser(b"k")
    rec = {"msisdn": "13951234567", "context": {"old_imei": "356938031234562", "region_id": "mall-1"}, "n": 5}
    assert p.redact(rec) == {
        "msisdn": p.msisdn("13951234567"),
        "context": {"old_imei": p.pseudonym("imei", "356938031234562"), "region_id": "mall-1"},
        "n": 5,
    }
    assert p.redact_text('{"a": 1}') == '{"a": 1}'  # nothing to hide: the text as it came
    assert p.redact_text("x,13951234567,42") == f"x,#{p.msisdn('13951234567')},42"


def test_an_installation_makes_its_key_once_private_and_a_configured_key_wins(tmp_path):
    s = make_settings(tmp_path / "work")
    key = pseudonym_key(s)
    assert len(key) == 64 and pseudonym_key(s) == key  # made once, then read
    assert stat.S_IMODE(key_file(s).stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file(s).parent.stat().st_mode) == 0o700
    configured = make_settings(tmp_path / "work", privacy={"pseudonym_key": "from-the-vault"})
    assert pseudonym_key(configured) == b"from-the-vault"


def test_cli_reads_numbers_from_stdin(tmp_path):
    env = os.environ | {"TOUCHPOINT_PRIVACY__PSEUDONYM_KEY": "cli-key"}
    out = subprocess.run(
        [TOUCHPOINT, "privacy", "pseudonym"],
        input="13951234567\n\n13900000001\n",
        capture_output=True,
        text=True,
        env=env,
    )
    p = Pseudonymiser(b"cli-key")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"13951234567 {p.msisdn('13951234567')}",
        f"13900000001 {p.msisdn('13900000001')}",
    ]
