"""Log-in and log-out. Failed log-ins slow down: after ``console.failed_logins`` failures in a row for a name or
from an address, each attempt must wait longer (touchpoint.console.users.Throttle) and is refused with 429 until
then, before any password is checked."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from touchpoint.console import users
from touchpoint.console.context import console

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path of this console (never another site) to go to after logging in: no scheme, no host, nothing a
    browser would drop or turn into one (control characters, backslashes)."""
    if not target or any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in target):
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    nxt = request.values.get("next")
    if request.method == "GET":
        return render_template("login.html", name="", next=nxt, error=None)
    c = console()
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    keys = (f"name:{name}", f"address:{request.remote_addr}")
    wait = c.throttle.wait_s(*keys)
    if wait > 0:
        error = f"Too many failed log-ins: try again in {wait:.0f} s."
        return render_template("login.html", name=name, next=nxt, error=error), 429
    user = users.authenticate(c.settings, name, password)
    if user is None:
        c.throttle.failed(*keys)
        return render_template("login.html", name=name, next=nxt, error="Wrong name or password."), 401
    c.throttle.succeeded(*keys)
    session.clear()
    session["user"], session["stamp"] = user.name, user.stamp
    session.permanent = True
    return redirect(_safe_next(nxt))


@blueprint.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
