"""``touchpoint console serve|add-user|remove-user|users|hash-password``: the marketers' web console
(docs/console.md) and its users. A password is read from stdin (asked twice at a terminal), never from the
command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from touchpoint.cli.options import CLICKHOUSE, Commands, UsageError, settings, stop_on_signals
from touchpoint.config.console import ROLES


def cmd_serve(args: argparse.Namespace) -> int:
    from touchpoint.console.server import serve
    from touchpoint.console.users import all_users

    s = settings(args)
    if args.host:
        s.console.host = args.host
    if args.port is not None:
        s.console.port = args.port
    if not all_users(s):
        print(
            "touchpoint console: no users yet: add the first admin with "
            "`touchpoint console add-user NAME --role admin` (the password on stdin)",
            file=sys.stderr,
        )
    stop = stop_on_signals()
    serve(s, stop, args.url, ready=lambda url: print(f"console: {url}", flush=True))
    return 0


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("no password on stdin")
    return line


def cmd_add_user(args: argparse.Namespace) -> int:
    from touchpoint.console.users import UserError, add_user, check_name, check_role

    s = settings(args)
    try:
        check_name(args.name), check_role(args.role)
        path = add_user(s, args.name, args.role, _password())
    except UserError as e:
        raise UsageError(str(e)) from None
    print(f"user {args.name} ({args.role}) saved in {path}", file=sys.stderr)
    return 0


def cmd_remove_user(args: argparse.Namespace) -> int:
    from touchpoint.console.users import remove_user, users_file

    s = settings(args)
    if not remove_user(s, args.name):
        raise UsageError(f"user {args.name!r} is not in {users_file(s)}")
    print(f"user {args.name} removed from {users_file(s)}", file=sys.stderr)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from touchpoint.console.users import all_users

    for name, u in sorted(all_users(settings(args)).items()):
        print(f"{name:<32} {u['role']}")
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    from touchpoint.console.users import UserError, hash_password

    try:
        print(hash_password(_password()))
    except UserError as e:
        raise UsageError(str(e)) from None
    return 0


def register(commands: Commands) -> None:
    group = commands.group("console", "the marketers' web console and its users (docs/console.md)")
    p = group.add(
        "serve",
        cmd_serve,
        "serve the console (console.host:console.port, loopback by default) until stopped",
        parents=(CLICKHOUSE,),
    )
    p.add_argument("--host", help="listen on this address (default: console.host)")
    p.add_argument("--port", type=int, help="listen on this port, 0 for any free one (default: console.port)")
    p = group.add("add-user", cmd_add_user, "add a console user or set one's role and password (password on stdin)")
    p.add_argument("name", help="the user's name: letters, digits and _ . @ -")
    p.add_argument("--role", choices=ROLES, default="viewer", help="viewer (default), marketer or admin")
    p = group.add("remove-user", cmd_remove_user, "remove a user from the users file")
    p.add_argument("name", help="the user to remove")
    group.add("users", cmd_users, "list the users and their roles")
    group.add("hash-password", cmd_hash_password, "print the hash of a password read from stdin (for console.users)")
