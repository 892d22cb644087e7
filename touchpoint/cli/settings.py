"""``touchpoint settings show|reference``: the settings in effect (secrets masked), and the settings reference
that docs/settings.md holds."""

from __future__ import annotations

import argparse

import yaml

from touchpoint.cli.options import Commands, settings


def cmd_show(args: argparse.Namespace) -> int:
    # model_dump masks every SecretStr ("**********"): the output can go into a ticket
    print(yaml.safe_dump(settings(args).model_dump(mode="json"), sort_keys=False), end="")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from touchpoint.config.reference import render

    print(render(), end="")
    return 0


def register(commands: Commands) -> None:
    group = commands.group("settings", "the settings in effect, and every setting's type, default and meaning")
    group.add("show", cmd_show, "print the settings in effect (file, environment, defaults) as YAML, secrets masked")
    group.add("reference", cmd_reference, "print the settings reference (docs/settings.md) as markdown")
