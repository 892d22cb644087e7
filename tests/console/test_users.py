"""Console users: salted hashes only, the roles' order, the users file readable by its owner only, the log-in
throttle's waits, and `touchpoint console add-user` reading the password from stdin."""

from __future__ import annotations

import json
import stat

import pytest

from tests.support import make_settings, run_cli
from touchpoint.config import write_settings
from touchpoint.console import users


@pytest.fixture
def s(tmp_path):
    return make_settings(tmp_path / "w")


def test_a_password_is_kept_as_a_salted_hash_and_checked(s):
    path = users.add_user(s, "ana", "marketer", "correct horse")
    text = path.read_text()
    assert "correct horse" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users.add_user(s, "bob", "viewer", "correct horse")
    hashes = {u["password_hash"] for u in json.loads(text).values()} | {users.all_users(s)["bob"]["password_hash"]}
    assert len(hashes) == 2 and all(h.startswith("scrypt:") for h in hashes)  # same password, other salt
    assert users.authenticate(s, "ana", "correct horse") == users.User("ana", "marketer")
    assert users.authenticate(s, "ana", "wrong horse!") is None
    assert users.authenticate(s, "nobody", "correct horse") is None


def test_roles_are_ordered_and_bad_input_is_named(s):
    viewer, marketer, admin = (users.User("x", r) for r in ("viewer", "marketer", "admin"))
    assert [viewer.may("marketer"), marketer.may("marketer"), admin.may("marketer"), marketer.may("admin")] == [
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(users.UserError, match="role 'root'"):
        users.add_user(s, "ana", "root", "long enough")
    with pytest.raises(users.UserError, match="password: at least 8"):
        users.add_user(s, "ana", "viewer", "short")
    with pytest.raises(users.UserError, match="user name '<b>'"):
        users.add_user(s, "<b>", "viewer", "long enough")


def test_users_in_the_settings_join_the_file_and_win(tmp_path):
    h = users.hash_password("from settings")
    s = make_settings(tmp_path / "w", console={"users": {"ana": {"role": "admin", "password_hash": h}}})
    users.add_user(s, "ana", "viewer", "from the file")
    assert users.authenticate(s, "ana", "from settings") == users.User("ana", "admin")
    assert users.authenticate(s, "ana", "from the file") is None
    assert users.current(s, "nobody") is None


def test_a_hash_in_the_settings_is_a_secret(tmp_path):
    h = users.hash_password("from settings")
    s = make_settings(tmp_path / "w", console={"users": {"ana": {"role": "admin", "password_hash": h}}})
    config = write_settings(s, tmp_path / "c.yaml")
    assert h in config.read_text()  # handed on whole
    shown = run_cli("settings", "show", "--config", str(config))
    assert shown.returncode == 0 and h not in shown.stdout and "password_hash: '**********'" in shown.stdout


def test_repeated_failures_make_each_attempt_wait_longer_and_a_success_resets():
    now = [0.0]
    t = users.Throttle(free=3, max_s=5.0, clock=lambda: now[0])
    for _ in range(3):
        assert t.wait_s("name:ana", "address:1") == 0
        t.failed("name:ana", "address:1")
    assert t.wait_s("name:ana") == 1.0 and t.wait_s("address:1") == 1.0 and t.wait_s("name:bob") == 0
    now[0] = 1.0
    t.failed("name:ana")  # the 4th failure: 2 s from now
    assert t.wait_s("name:ana") == 2.0
    for _ in range(5):
        t.failed("name:ana")
    assert t.wait_s("name:ana") == 5.0  # capped
    t.succeeded("name:ana", "address:1")
    assert t.wait_s("name:ana", "address:1") == 0


def test_add_user_reads_the_password_from_stdin_and_refuses_bad_arguments(tmp_path):
    config = write_settings(make_settings(tmp_path / "w"), tmp_path / "c.yaml")
    out = run_cli(
        "console", "add-user", "root-admin", "--role", "admin", "--config", str(config), input="s3cret-pass\n"
    )
    assert out.returncode == 0, out.stderr
    out = run_cli("console", "users", "--config", str(config))
    assert out.stdout.split() == ["root-admin", "admin"]
    s = make_settings(tmp_path / "w")
    assert users.authenticate(s, "root-admin", "s3cret-pass") == users.User("root-admin", "admin")
    hashed = run_cli("console", "hash-password", "--config", str(config), input="for-the-settings\n")
    assert hashed.returncode == 0 and hashed.stdout.startswith("scrypt:")
    given = make_settings(tmp_path / "w2", console={"users": {"eve": {"password_hash": hashed.stdout.strip()}}})
    assert users.authenticate(given, "eve", "for-the-settings") == users.User("eve", "viewer")
    assert run_cli("console", "remove-user", "root-admin", "--config", str(config)).returncode == 0
    assert users.all_users(s) == {}
    for args, stdin, word in (
        (("add-user", "eve", "--role", "king"), "s3cret-pass\n", "king"),
        (("add-user", "eve"), "short\n", "password"),
        (("add-user", "eve"), "", "no password on stdin"),
        (("remove-user", "nobody"), "", "nobody"),
    ):
        out = run_cli("console", *args, "--config", str(config), input=stdin)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and word in out.stderr, out.stderr
