"""The benchmarks keep running (their figures are read by people, never asserted here)."""

from bench.scoring import measure


def test_the_scoring_benchmark_runs_and_reports_every_figure():
    rows = measure(sets=2_000, sample=10, repeats=1)
    figures = [row["figure"] for row in rows]
    assert figures[:3] == ["batch scoring, 2,000 sets", "one-at-a-time path / batch", "batch / bare matrix product"]
    assert all(row["ok"] is None for row in rows)  # bars are judged only at full size
    levels = [int(n) for n in rows[-1]["value"].split(" / ")]
    assert sum(levels) == 2_000
    assert levels[4] > 0


def test_the_interview_benchmark_runs(monkeypatch):
    from bench.interview import measure as interview

    monkeypatch.setenv("ASSESSMENT_DB_URL", "sqlite://")  # replaced by the benchmark's own database
    rows = interview(repeats=3)
    assert [row["figure"] for row in rows] == ["rerun after answering (save included)", "rerun of an empty script",
                                               "ratio"]
