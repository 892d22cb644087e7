"""Users, for admins: who may log in and with which role. Adding and removing a user is recorded on the audit
topic (the role, never the password or its hash)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from touchpoint.config.console import ROLES
from touchpoint.console import definitions as defs
from touchpoint.console import users
from touchpoint.console.context import console, needs

blueprint = Blueprint("users", __name__)


def _page(form: dict | None = None, error: str | None = None, status: int = 200):
    listed = sorted(users.all_users(console().settings).items())
    from_settings = set(console().settings.console.users)
    return (
        render_template(
            "users.html", listed=listed, from_settings=from_settings, roles=ROLES, form=form or {}, error=error
        ),
        status,
    )


@blueprint.get("/users")
@needs("admin")
def listing():
    return _page()


@blueprint.post("/users")
@needs("admin")
def add():
    s = console().settings
    name, role = request.form.get("name", "").strip(), request.form.get("role", "")
    form = {"name": name, "role": role}
    if name in s.console.users:
        return _page(form, f"user {name!r} is given in the settings (console.users): change it there", 422)
    before = users.all_users(s).get(name, {}).get("role")
    try:
        password_hash = users.hash_password(request.form.get("password", ""))
        users.check_name(name), users.check_role(role)
    except users.UserError as e:
        return _page(form, str(e), 422)
    try:  # recorded first: a change the audit topic did not take is not made
        defs.record_user_change(s, g.user, "add_user", name, before, role)
    except defs.ChangeError as e:
        return _page(form, f"not saved: {e}", 503)
    users.set_user(s, name, role, password_hash)
    flash(f"User {name} ({role}) saved.")
    return redirect(url_for("users.listing"))


@blueprint.post("/users/<name>/remove")
@needs("admin")
def remove(name: str):
    s = console().settings
    if name == g.user.name:
        return _page(error="you cannot remove yourself", status=422)
    before = users.all_users(s).get(name, {}).get("role")
    if name not in users.all_users(s) or name in s.console.users:
        return _page(
            error=f"user {name!r} is not in the users file (users in the settings are removed there)", status=422
        )
    try:
        defs.record_user_change(s, g.user, "remove_user", name, before, None)
    except defs.ChangeError as e:
        return _page(error=f"not removed: {e}", status=503)
    users.remove_user(s, name)
    flash(f"User {name} removed.")
    return redirect(url_for("users.listing"))
