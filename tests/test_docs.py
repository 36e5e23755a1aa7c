"""Every command is in the README and has help text; the README's commands are the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencegraph.cli import cli

from conftest import invoke

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_documented_with_help(runner, name):
    assert f"evidencegraph {name}" in README
    result = invoke(runner, name, "--help")
    assert result.exit_code == 0 and len(result.output) > 100
    assert cli.commands[name].help


def test_readme_main_job_and_test_command():
    assert ".venv/bin/evidencegraph ingest data/" in README
    assert ".venv/bin/python -m pytest" in README
    assert "python -m pytest" in CI


def test_version(runner):
    from evidencegraph import __version__

    assert invoke(runner, "--version").output.strip().endswith(__version__)


def test_input_limits_documented_with_their_defaults():
    from evidencegraph.limits import DEFAULTS

    section = README.split("## Security and limits", 1)[1].split("\n## ", 1)[0]
    for name, default in DEFAULTS.items():
        line = next((ln for ln in section.splitlines() if f"`EVIDENCEGRAPH_{name}`" in ln), None)
        assert line is not None, name
        assert f"{default:,}" in line or f"({default} bytes)" in line or f"{default} s" in line, (name, line)
