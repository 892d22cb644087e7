"""The console's Flask application: sessions and CSRF protection on every change (Flask-WTF), the log-in check
before every page but the log-in page, security headers, error pages, and the one
:class:`~touchpoint.console.context.Console` the views share."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from touchpoint.config import Settings
from touchpoint.console import users
from touchpoint.console.context import Console, console
from touchpoint.console.figures import ClickHouseFigures
from touchpoint.console.live import Live
from touchpoint.console.preview import Previewer

#: what a page may load: itself only; inline styles for the report's map colours (no inline script)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def secret_key(settings: Settings) -> str:
    """The session key: from its file, made once (readable by its owner only)."""
    path: Path = settings.console.secret_key_file or settings.paths.work_dir / "console" / "secret-key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(settings: Settings, clickhouse_url: str | None = None, follow: bool = True) -> Flask:
    """The application; ``follow`` starts the topic readers (off for tests of pages that need no broker)."""
    from touchpoint.console import views_auth, views_definitions, views_map, views_users

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="touchpoint_console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console.session_hours),
        WTF_CSRF_TIME_LIMIT=int(settings.console.session_hours * 3600),
        MAX_CONTENT_LENGTH=1 << 20,
    )
    CSRFProtect(app)
    if settings.console.trusted_proxies:  # the client's address from the proxies' X-Forwarded-For, no further
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.console.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    live = Live(settings)
    if follow:
        live.start()
    app.extensions["touchpoint"] = Console(
        settings,
        live,
        ClickHouseFigures(settings, clickhouse_url),
        Previewer(settings),
        users.Throttle(settings.console.failed_logins, settings.console.lockout_max_s),
    )
    for module in (views_auth, views_definitions, views_map, views_users):
        app.register_blueprint(module.blueprint)

    _guard(app, settings)

    @app.get("/")
    def home():
        return redirect(url_for("definitions.listing", kinds="campaigns"))

    return app


def _guard(app: Flask, settings: Settings) -> None:
    """The log-in check before every page, the headers after, the error pages and what every template gets."""

    @app.before_request
    def logged_in():
        g.user = None
        name = session.get("user")
        if name:
            g.user = users.current(settings, name, session.get("stamp", ""))
            if g.user is None:  # removed, or the password changed, since: the session ends
                session.clear()
        if g.user is None and request.endpoint not in ("auth.login", "static"):
            return redirect(
                url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
            )
        return None

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(e):
        return _error(400, f"the form expired or did not come from this console ({e.description}); reload and retry")

    @app.errorhandler(403)
    def forbidden(e):
        return _error(403, e.description)

    @app.errorhandler(404)
    def not_found(e):
        return _error(404, e.description)

    @app.context_processor
    def shared():
        c = console()
        return {
            "user": g.get("user"),
            "problems": c.live.problems(),
            "grafana": (settings.grafana.url or "").rstrip("/"),
            "refresh_seconds": settings.console.refresh_seconds,
        }


def _error(status: int, message: str):
    from flask import render_template

    return render_template("error.html", status=status, message=message), status
