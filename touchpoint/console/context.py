"""What every view of the console shares: the :class:`Console` of the running application (settings, the
followed topics, ClickHouse, the preview, the log-in throttle) and the role a view needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, current_app, g

from touchpoint.config import Settings
from touchpoint.console.figures import ClickHouseFigures
from touchpoint.console.live import Live
from touchpoint.console.preview import Previewer
from touchpoint.console.users import Throttle


@dataclass
class Console:
    settings: Settings
    live: Live
    figures: ClickHouseFigures
    previewer: Previewer
    throttle: Throttle


def console() -> Console:
    return current_app.extensions["touchpoint"]


def needs(role: str):
    """A view only a user of ``role`` or above may use: 403 for anyone else (the buttons are hidden too)."""

    def wrap(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not g.user.may(role):
                abort(403, description=f"this needs the {role} role; you are {g.user.role}")
            return view(*args, **kwargs)

        return checked

    return wrap
