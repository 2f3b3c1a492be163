#!/usr/bin/env python3
"""Writes assets/az-command-table.json from the real azure-cli's own parser.

Run by hand (never by the build or the tests), with azure-cli installed in a virtual
environment:

    python3 -m venv /tmp/azvenv && /tmp/azvenv/bin/pip install azure-cli==2.91.0
    /tmp/azvenv/bin/python tools/az_command_table.py > assets/az-command-table.json

It loads az's full command table the way az's own documentation tooling does, builds the
argparse parsers az parses with, and records, for every command under the groups the
console simulates, each argument's option strings, whether it takes a value (and how
many), its choices and whether it is required. For every other az command it records only
the name, so the console can tell a real az command it does not simulate from a typo.
"""
import argparse
import json
import sys

from azure.cli.core import get_default_cli
from azure.cli.core.file_util import create_invoker_and_load_cmds_and_args

# The command groups the console simulates (prefixes of command names); every command
# under them is written with its arguments.
SIMULATED_GROUPS = [
    "account",
    "ad app",
    "ad sp",
    "ad user",
    "ad signed-in-user",
    "group",
    "identity",
    "keyvault",
    "lock",
    "login",
    "logout",
    "monitor activity-log",
    "monitor action-group",
    "monitor diagnostic-settings",
    "monitor metrics",
    "network nsg",
    "network route-table",
    "network vnet",
    "role assignment",
    "role definition",
    "sql",
]


def simulated(name):
    return any(name == g or name.startswith(g + " ") for g in SIMULATED_GROUPS)


def nargs_of(action):
    """'0' for a switch, '1' for one value, '?', '*', '+' as argparse says."""
    if action.nargs == 0 or isinstance(
        action,
        (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction,
         argparse._CountAction),
    ):
        return "0"
    if action.nargs is None:
        return "1"
    return str(action.nargs)


def walk(parser, path, out):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        out[" ".join(path)] = parser
        return
    for sub in subs:
        for word, child in sub.choices.items():
            walk(child, path + [word], out)


def main():
    cli = get_default_cli()
    create_invoker_and_load_cmds_and_args(cli)
    parsers = {}
    walk(cli.invocation.parser, [], parsers)
    commands = {}
    others = []
    for name in sorted(parsers):
        if not simulated(name):
            others.append(name)
            continue
        args = []
        for action in parsers[name]._actions:
            if not action.option_strings or action.dest == "help":
                continue
            # az's hidden internal arguments (`--__SKU`) are nothing a user types.
            if all(o.startswith("--__") for o in action.option_strings):
                continue
            entry = {"options": list(action.option_strings), "nargs": nargs_of(action)}
            if action.required:
                entry["required"] = True
            if action.choices:
                entry["choices"] = [str(c) for c in action.choices]
                # az's enum arguments take their words in any case.
                if type(action.choices).__name__ == "CaseInsensitiveList":
                    entry["any_case"] = True
            args.append(entry)
        commands[name] = args
    from azure.cli.core import __version__
    json.dump(
        {"azure_cli": __version__, "commands": commands, "other_commands": others},
        sys.stdout,
        indent=None,
        separators=(",", ":"),
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
