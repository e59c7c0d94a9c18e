"""The benchmarks keep running and list every figure; nothing here reads or asserts a timing.

The quick run of ``bench/run.py`` is run once, as a user runs it, with its README output aimed at a copy."""

import subprocess
import sys
from pathlib import Path

import pytest

from assessment import PROJECT_ROOT
from bench import demo_db, run
from bench.bureau import enterprise_count
from bench.scoring import measure as measure_scoring
from bench.table import markdown_table, row

README = PROJECT_ROOT / "README.md"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, str, str, Path]:
    """`bench/run.py --quick --readme COPY` with its demo database cached in a temporary folder."""
    work = tmp_path_factory.mktemp("bench")
    copy = work / "README.md"
    before = README.read_text(encoding="utf-8")
    copy.write_text(before, encoding="utf-8")
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--cache", str(work / "cache"),
                           "--readme", str(copy)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return done, before, copy.read_text(encoding="utf-8"), work / "cache"


def table_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| figure |")]


def test_the_quick_run_measures_every_figure_and_judges_no_bar(quick_run):
    done, _, _, _ = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    header, *lines = done.stdout.splitlines()
    assert header.split() == ["figure", "size", "measured", "bar", "ratio", "result"]
    for figure in run.bar_figures().values():
        assert any(line.startswith(figure + "  ") for line in lines), figure
    assert any("the bars are not judged" in line for line in lines)
    assert not any(line.rstrip().endswith(("pass", "FAIL")) for line in lines)


def test_the_quick_run_includes_the_load_test_when_it_exists(quick_run):
    done, _, _, _ = quick_run
    lines = done.stdout.splitlines()
    assert ("load …" in done.stderr) == run.LOAD_MODULE.exists()
    assert any(line.startswith("load") for line in lines) == run.LOAD_MODULE.exists()


def test_the_quick_run_rewrites_only_the_generated_part_of_the_readme(quick_run):
    done, before, after, _ = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    head, tail = before.split(run.BEGIN)[0], before.split(run.END)[1]
    assert after.startswith(head)
    assert after.endswith(tail)
    section = after[len(head):len(after) - len(tail)]
    names = ", ".join(b.name for b in run.BENCHMARKS if b.in_quick)
    assert f"Measured by `python bench/run.py --quick` ({names}) in " in section
    for key in ("CPU", "cores", "memory", "Python", "SQLite", "PostgreSQL", "load average at the start"):
        assert f"\n- {key}: " in section, key
    figures = [cells[0] for cells in table_rows(section)]
    assert set(run.bar_figures().values()) <= set(figures)
    assert "the bars are not judged" in section


def test_the_demo_database_is_built_once_in_its_cache_then_reused(quick_run, tmp_path):
    _, _, _, cache = quick_run
    assert demo_db.cached_path(run.QUICK_ENTERPRISES, cache=cache).exists()  # built by the quick run
    said = []
    url = demo_db.demo_database(run.QUICK_ENTERPRISES, cache=cache, say=said.append)
    assert said == [f"reusing the cached demo database {demo_db.cached_path(run.QUICK_ENTERPRISES, cache=cache)}"]
    assert url.endswith(demo_db.cached_path(run.QUICK_ENTERPRISES, cache=cache).name)
    assert [path.name for path in cache.glob("*.db")] == [demo_db.cached_path(run.QUICK_ENTERPRISES).name]
    assert demo_db.cached_path(run.QUICK_ENTERPRISES, seed=7, cache=cache).name != \
        demo_db.cached_path(run.QUICK_ENTERPRISES, cache=cache).name


def test_the_readme_is_left_alone_without_its_markers(tmp_path):
    unmarked = tmp_path / "README.md"
    unmarked.write_text("# no markers\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--only", "scoring", "--readme", str(unmarked)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--readme" in done.stderr
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--readme", str(unmarked)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "README: expected one" in done.stderr
    assert "Traceback" not in done.stderr
    assert "scoring …" not in done.stderr  # refused before measuring anything
    assert unmarked.read_text(encoding="utf-8") == "# no markers\n"


def test_a_full_run_summary_names_failed_and_unjudged_bars():
    rows = [row("a", "fast thing", "1 s", "≤ 2 s", ok=True), row("b", "slow thing", "3 s", "≤ 2 s", ok=False),
            row("c", "small thing", "1 s", "≤ 2 s", ok=None), row("d", "a count", "7")]
    assert run.summary(rows, quick=False) == ("1 of 2 bars met; FAILED: slow thing; 1 not judged (measured below "
                                              "the size the bar is stated for).")
    assert run.summary(rows[2:], quick=False) == "No bar judged: 1 measured below the size the bar is stated for."
    table = markdown_table(rows)
    assert table.splitlines()[0] == "| figure | measured | bar | result |"  # no size or ratio in any row
    assert "| slow thing | 3 s | ≤ 2 s | FAIL |" in table


def test_the_scoring_benchmark_below_the_bar_size_judges_nothing():
    rows = measure_scoring(sets=2_000, sample=10, repeats=1)
    assert [r["id"] for r in rows] == ["scoring.batch", "scoring.one_at_a_time", "scoring.floor", "scoring.levels"]
    assert all(r["ok"] is None for r in rows)  # bars are judged only at full size
    assert all(r["size"] == "2,000 sets" for r in rows)
    levels = [int(n) for n in rows[-1]["value"].split(" / ")]
    assert sum(levels) == 2_000
    assert levels[4] > 0


def test_a_database_that_is_not_there_is_named_and_not_created(tmp_path):
    missing = tmp_path / "nowhere" / "demo.db"
    done = subprocess.run([sys.executable, "bench/bureau.py", "--db", str(missing)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == f"{missing}: no such database file"
    assert not missing.parent.exists()


def test_a_demo_database_built_from_earlier_code_is_replaced(tmp_path):
    stale = tmp_path / "demo-5-seed2026-000000000000.db"
    other_size = tmp_path / "demo-6-seed2026-000000000000.db"
    for path in (stale, other_size):
        path.write_bytes(b"built by earlier code")
    said = []
    url = demo_db.demo_database(5, cache=tmp_path, say=said.append)
    fresh = demo_db.cached_path(5, cache=tmp_path)
    assert url == f"sqlite:///{fresh}"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([fresh.name, other_size.name])
    assert said[0].startswith("building a demo database of 5 enterprises")
    assert said[-1] == f"removing {stale.name}, built from earlier code"
    assert enterprise_count(url) == 5
