"""The ``sgl`` group loads a workflow's commands only when that command runs, and names each as it is typed."""

from __future__ import annotations

import subprocess
import sys

import click

from server.cli import WORKFLOW_COMMANDS, main


def test_every_workflow_command_loads_under_its_own_name() -> None:
    context = click.Context(main)
    for name in WORKFLOW_COMMANDS:
        command = main.get_command(context, name)
        assert command is not None and command.name == name
    assert set(WORKFLOW_COMMANDS) <= set(main.list_commands(context))
    assert {"serve", "db", "validate"} <= set(main.list_commands(context))


def test_a_partners_command_does_not_load_the_server() -> None:
    probe = ("import sys\nfrom server.cli import main\n"
             "try:\n    main(['partners', '--help'])\nexcept SystemExit as done:\n    assert done.code == 0\n"
             "print(sorted(m for m in ('server.wiring', 'server.app', 'server.catalog.cli') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Socket partners" in done.stdout and done.stdout.strip().endswith("[]")
