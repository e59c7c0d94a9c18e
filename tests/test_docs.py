"""The README tells the truth: its quick start, its command table and its CI command."""

import ast
import importlib.metadata
import re
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def performance_section() -> str:
    return README.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]


def test_the_performance_section_says_how_to_run_the_benchmarks():
    prose = performance_section().split("<!-- bench:begin", 1)[0]
    for command in ("python bench/run.py", "--quick", "--only", "--readme", "data/bench/"):
        assert command in prose, command
    for script in sorted((PROJECT_ROOT / "bench").glob("*.py")):
        if script.stem not in ("__init__", "table", "run", "demo_db"):
            assert f"`bench/{script.name}`" in prose, script.name


def test_the_performance_figures_are_generated_by_the_benchmark_command():
    from bench import run

    section = performance_section()
    assert section.count(run.BEGIN) == 1
    assert section.count(run.END) == 1
    generated = section.split(run.BEGIN, 1)[1].split(run.END, 1)[0]
    measured = re.search(r"^Measured by `python bench/run\.py( --quick)?` \(([a-z, -]+)\) in \d+ min on "
                         r"\d{4}-\d\d-\d\d ", generated, re.MULTILINE)
    assert measured, "the line saying which run and when"
    assert {"scoring", "reports", "bureau", "interview", "dashboard"} <= set(measured.group(2).split(", "))
    for key in ("CPU", "cores", "memory", "Python", "SQLite", "PostgreSQL", "load average at the start"):
        assert re.search(rf"^- {key}: \S", generated, re.MULTILINE), key
    table = [line for line in generated.splitlines() if line.startswith("|")]
    assert table[0] == "| figure | size | measured | bar | ratio | result |"
    figures = {line.split(" | ", 1)[0].removeprefix("| ") for line in table[2:]}
    missing = set(run.bar_figures().values()) - figures
    assert not missing, f"figures of DESIGN.md §6 not in the README: {missing}"
    assert re.search(r"^(Quick run .*not judged|No bar judged|\d+ of \d+ bars met)", generated, re.MULTILINE)


def requirements() -> dict[str, Requirement]:
    lines = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    parsed = [Requirement(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()]
    return {canonicalize_name(r.name): r for r in parsed}


def third_party_imports() -> set[str]:
    """The top-level modules the project's code imports that are neither the standard library nor its own."""
    own = {"assessment", "reports", "ui", "tests", "bench"}
    found = set()
    for path in PROJECT_ROOT.rglob("*.py"):
        if path.relative_to(PROJECT_ROOT).parts[0] not in (*own, "app.py") or ".v" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - own


def test_every_imported_package_is_a_requirement():
    listed = requirements()
    distributions = importlib.metadata.packages_distributions()
    unlisted = {module for module in third_party_imports()
                if not {canonicalize_name(d) for d in distributions.get(module, [module])} & set(listed)}
    assert not unlisted, f"imported but not in requirements.txt: {sorted(unlisted)}"


def test_constraints_pin_every_requirement_within_its_range():
    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    for name, requirement in requirements().items():
        assert name in pins, f"{name} is not pinned in constraints.txt (bash .ci/constraints)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    for command in quick_start_commands():
        assert "-r requirements.txt -c constraints.txt" in command
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert all("-c constraints.txt" in line for line in ci.splitlines() if "pip install" in line)
