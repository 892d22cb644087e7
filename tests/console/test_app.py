"""The console's web layer without a broker or ClickHouse (neither listens on the ports given): nothing but the
log-in page without a session, CSRF on every change, failed log-ins slowed down, roles enforced on the server,
form errors naming the field with the input kept, and Kafka and ClickHouse each named when out of reach while the
console serves what it has (drafts)."""

from __future__ import annotations

import html
import re

import pytest

from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.clients.campaigns import load
from touchpoint.console import definitions as defs
from touchpoint.console import users
from touchpoint.console.app import create_app
from touchpoint.infra.stack import free_port

GOOD = load([str(ROOT / "campaigns" / "dial-114-12580.yaml")])[0].record


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    work = tmp_path_factory.mktemp("console") / "w"
    kafka_port, ch_port = free_port(), free_port()
    s = make_settings(
        work,
        f"127.0.0.1:{kafka_port}",
        clickhouse={"url": f"clickhouse://127.0.0.1:{ch_port}"},
        console={"figures_timeout_s": 1.0, "failed_logins": 2},
    )
    users.add_user(s, "ana", "marketer", "ana-password")
    users.add_user(s, "vic", "viewer", "vic-password")
    users.add_user(s, "root", "admin", "root-password")
    defs.save_draft(s, defs.KINDS["campaigns"], GOOD | {"id": "saved-draft", "name": "Saved draft"})
    defs.save_draft(s, defs.KINDS["campaigns"], GOOD | {"id": "new", "name": "A campaign called new"})
    a = create_app(s)
    a.config["kafka_port"], a.config["ch_port"] = kafka_port, ch_port
    yield a
    a.extensions["touchpoint"].live.stop()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(app, name: str, password: str):
    c = app.test_client()
    token = _token(c.get("/login").text)
    r = c.post("/login", data={"csrf_token": token, "name": name, "password": password})
    return c, r


def test_nothing_but_the_log_in_page_without_a_session(app):
    c = app.test_client()
    for url in ("/", "/campaigns", "/campaigns/-/new", "/map", "/users", "/campaigns/x/edit"):
        r = c.get(url)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), url
    r = c.post("/campaigns/x/pause", data={})
    assert r.status_code in (302, 400)
    assert c.get("/login").status_code == 200
    assert "Content-Security-Policy" in c.get("/login").headers


def test_a_change_without_the_forms_token_is_refused(app):
    c, _ = _login(app, "ana", "ana-password")
    r = c.post("/campaigns/-/editor", data={"action": "check", "id": "x"})
    assert r.status_code == 400 and "did not come from this console" in r.text


def test_failed_log_ins_slow_down_and_a_good_one_resets(app):
    c = app.test_client()
    token = _token(c.get("/login").text)
    attempt = {"csrf_token": token, "name": "mallory", "password": "guess-1234"}
    assert [c.post("/login", data=attempt).status_code for _ in range(2)] == [401, 401]
    r = c.post("/login", data=attempt | {"name": "mallory"})
    assert r.status_code == 429 and "Too many failed log-ins" in r.text
    # the address is held back too, whatever the name, until the wait is over
    assert c.post("/login", data={"csrf_token": token, "name": "ana", "password": "ana-password"}).status_code == 429
    app.extensions["touchpoint"].throttle.succeeded("name:mallory", "address:127.0.0.1", "name:ana")
    assert c.post("/login", data={"csrf_token": token, "name": "ana", "password": "ana-password"}).status_code == 302


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/campaigns/x", "/campaigns/x"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\t/evil.example", "/"),  # a browser drops the tab: //evil.example
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_after_log_in_only_a_page_of_this_console(app, target, lands):
    c = app.test_client()
    token = _token(c.get("/login").text)
    r = c.post("/login", data={"csrf_token": token, "name": "ana", "password": "ana-password", "next": target})
    assert r.status_code == 302 and r.headers["Location"] == lands


def test_a_changed_password_ends_the_sessions_made_with_the_old_one(app):
    s = app.extensions["touchpoint"].settings
    users.add_user(s, "tom", "viewer", "tom-password")
    c, _ = _login(app, "tom", "tom-password")
    assert c.get("/campaigns").status_code == 200
    users.add_user(s, "tom", "viewer", "new-password")
    assert c.get("/campaigns").headers["Location"].startswith("/login")
    users.remove_user(s, "tom")


def test_behind_a_trusted_proxy_the_throttle_counts_clients_not_the_proxy(tmp_path):
    s = make_settings(tmp_path / "w", "127.0.0.1:9", console={"trusted_proxies": 1, "failed_logins": 2})
    proxied = create_app(s, follow=False).test_client()

    def attempt(name: str, client: str) -> int:
        token = _token(proxied.get("/login", headers={"X-Forwarded-For": client}).text)
        data = {"csrf_token": token, "name": name, "password": "wrong-password"}
        return proxied.post("/login", data=data, headers={"X-Forwarded-For": client}).status_code

    assert [attempt("m1", "10.0.0.1"), attempt("m2", "10.0.0.1")] == [401, 401]
    assert attempt("m3", "10.0.0.1") == 429  # that client waits
    assert attempt("m4", "10.0.0.2") == 401  # another does not


def test_a_user_given_in_the_settings_is_changed_there_only(tmp_path):
    given = {"sam": {"role": "admin", "password_hash": users.hash_password("sam-password")}}
    a = create_app(make_settings(tmp_path / "w", "127.0.0.1:9", console={"users": given}), follow=False)
    c, _ = _login(a, "sam", "sam-password")
    form = {"csrf_token": _token(c.get("/users").text), "name": "sam", "role": "viewer", "password": "long-enough"}
    r = c.post("/users", data=form)
    assert r.status_code == 422 and "is given in the settings (console.users): change it there" in r.text


def test_a_viewer_reads_but_cannot_change(app):
    c, r = _login(app, "vic", "vic-password")
    assert r.status_code == 302
    page = c.get("/campaigns/saved-draft")
    assert page.status_code == 200 and 'id="pause"' not in page.text and 'id="edit"' not in page.text
    token = _token(page.text)
    for url in ("/campaigns/saved-draft/pause", "/campaigns/saved-draft/resume", "/campaigns/-/editor", "/users"):
        assert c.post(url, data={"csrf_token": token, "action": "publish"}).status_code == 403, url
    assert c.get("/campaigns/-/new").status_code == 403


def test_form_errors_name_the_field_and_keep_the_input(app):
    c, _ = _login(app, "ana", "ana-password")
    token = _token(c.get("/campaigns/-/new").text)
    form = {"csrf_token": token, "action": "publish", "id": "x-1", "name": "<script>alert(1)</script>"}
    form |= {"priority": "high", "audience.static[0].field": "brand", "audience.static[0].op": "like"}
    r = c.post("/campaigns/-/editor", data=form)
    assert r.status_code == 422 and "nothing was published" in r.text
    assert (
        '<p class="field-error" data-field="priority">priority: &#39;high&#39; is not of type &#39;integer&#39;</p>'
        in r.text
    )
    assert 'data-field="audience.static[0].op">audience.static[0].op: ' in r.text
    assert 'name="priority" value="high"' in r.text and "<option selected>like</option>" in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert" not in r.text


def test_a_draft_saved_under_a_new_id_is_renamed(app):
    c, _ = _login(app, "ana", "ana-password")
    token = _token(c.get("/campaigns/-/new").text)
    draft = {"csrf_token": token, "action": "save", "name": "half done", "priority": "soon"}
    assert c.post("/campaigns/-/editor", data=draft | {"id": "rename-me"}).status_code == 200
    r = c.post("/campaigns/-/editor", data=draft | {"id": "renamed", "original": "rename-me"})
    assert r.status_code == 200 and "Draft renamed saved (not valid yet)." in r.text
    kept = defs.drafts(app.extensions["touchpoint"].settings, defs.KINDS["campaigns"])
    assert "renamed" in kept and "rename-me" not in kept
    r = c.post("/campaigns/-/editor", data=draft | {"id": "../up"})
    assert r.status_code == 422 and "id: &#39;../up&#39; cannot name a draft" in r.text


def test_users_are_managed_by_admins_and_never_changed_unrecorded(app):
    s = app.extensions["touchpoint"].settings
    c, _ = _login(app, "root", "root-password")
    token = _token(c.get("/users").text)
    form = {"csrf_token": token, "name": "newbie", "role": "marketer", "password": "long-enough"}
    r = c.post("/users", data=form)  # the audit topic is out of reach: refused, nothing changed
    assert r.status_code == 503 and "not saved: Kafka (127.0.0.1:" in r.text
    assert "newbie" not in users.all_users(s)
    assert 'value="newbie"' in r.text  # the form keeps what was typed
    r = c.post("/users", data=form | {"password": "short"})
    assert r.status_code == 422 and "password: at least 8 characters" in r.text
    r = c.post("/users", data=form | {"role": "owner"})
    assert r.status_code == 422 and "role &#39;owner&#39;" in r.text
    r = c.post("/users/vic/remove", data={"csrf_token": token})
    assert r.status_code == 503 and "not removed: Kafka" in r.text and "vic" in users.all_users(s)
    assert c.post("/users/root/remove", data={"csrf_token": token}).status_code == 422  # not oneself


def test_a_journey_is_edited_in_its_own_schemas_form(app):
    journey = load([str(ROOT / "journeys")], "journeys")[0].record
    c, _ = _login(app, "ana", "ana-password")
    page = c.get("/journeys/-/new").text
    assert 'name="steps.reminder.days_before_end"' in page and 'name="usage.min_mb"' in page
    from touchpoint.console import form as forms

    fields = forms.to_raw(forms.layout(defs.KINDS["journeys"].schema), journey)
    r = c.post("/journeys/-/editor", data=fields | {"csrf_token": _token(page), "action": "check"})
    assert r.status_code == 200 and f"Valid: journey {journey['trial_product']} can be published." in r.text
    bad = fields | {"trial_days": "-3", "csrf_token": _token(page), "action": "check"}
    r = c.post("/journeys/-/editor", data=bad)
    assert r.status_code == 422 and 'data-field="trial_days">trial_days: ' in r.text


def test_out_of_reach_kafka_and_clickhouse_are_named_and_drafts_still_served(app):
    c, _ = _login(app, "ana", "ana-password")
    page = c.get("/campaigns").text
    assert f"Kafka (127.0.0.1:{app.config['kafka_port']}) is unreachable" in page
    assert f"ClickHouse (clickhouse://127.0.0.1:{app.config['ch_port']}" in page
    assert 'data-key="saved-draft"' in page  # what the console has
    assert "A campaign called new" in c.get("/campaigns/new").text  # no id shadows a page of the console
    assert f"ClickHouse (clickhouse://127.0.0.1:{app.config['ch_port']}" in c.get("/map").text
    # a valid draft cannot be published while Kafka is away: said, and the form is kept
    edit = c.get("/campaigns/saved-draft/edit").text
    fields = {n: html.unescape(v) for n, v in re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', edit)}
    assert fields["id"] == "saved-draft" and fields["priority"] == str(GOOD["priority"])
    r = c.post(
        "/campaigns/-/editor",
        data=fields
        | {"csrf_token": _token(edit), "action": "publish", "original": "saved-draft"}
        | _selects(edit)
        | _areas(edit),
    )
    assert r.status_code == 503, re.findall(r'class="field-error"[^>]*>([^<]*)<', r.text)
    assert f"Kafka (127.0.0.1:{app.config['kafka_port']})" in r.text
    assert 'name="id" value="saved-draft"' in r.text


def _selects(page: str) -> dict[str, str]:
    out = {}
    for name, body in re.findall(r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r"<option(?: value=\"[^\"]*\")? selected>([^<]*)</option>", body)
        out[name] = chosen.group(1) if chosen and chosen.group(1) != "—" else ""
    return out


def _areas(page: str) -> dict[str, str]:
    return {
        n: html.unescape(v)
        for n, v in re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S)
    }
