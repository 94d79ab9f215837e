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


RENDERING_LIBRARIES = ("weasyprint", "pylibdmtx", "barcode", "numpy")
"""Imported by the paths that render a PDF, read a Datamatrix, print a label or load the Annuaire, not by the
start of ``sgl serve``: together about a third of the CPU of its imports (README "Start-up")."""


def test_the_server_application_loads_without_the_rendering_libraries() -> None:
    probe = ("import sys\nfrom server.app import create_app\ncreate_app()\n"
             f"print(sorted(m for m in {RENDERING_LIBRARIES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[]"), done.stdout
