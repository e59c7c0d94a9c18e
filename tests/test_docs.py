"""The README tells the truth: its quick start, its command table and its CI command."""

import re

from assessment import PROJECT_ROOT
from assessment.cli import _parser

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_quick_start_has_exactly_two_commands_one_for_the_app_one_for_the_tests():
    app, tests = quick_start_commands()
    assert app.endswith("streamlit run app.py")
    assert tests.endswith("python -m pytest")
    assert (PROJECT_ROOT / "app.py").exists()


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert quick_start_commands()[1] in ci
    assert "set -euo pipefail" in ci
    assert "ruff check ." in ci


def test_the_command_table_lists_every_command():
    documented = set(re.findall(r"^\| `(\w[\w-]*)", README, re.MULTILINE))
    commands = set(_parser()._subparsers._group_actions[0].choices)
    assert documented >= commands, commands - documented
