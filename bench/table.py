"""The one table every benchmark prints: figure, measured value, bar, pass/fail."""


def print_table(rows: list[dict]) -> None:
    """Rows of {"figure", "value", "bar", "ok"}; ok None means the bar is not judged in this run."""
    widths = [max(len(row[key]) for row in rows) for key in ("figure", "value", "bar")]
    for row in rows:
        verdict = "" if row["ok"] is None else ("pass" if row["ok"] else "FAIL")
        cells = [row[key].ljust(width) for key, width in zip(("figure", "value", "bar"), widths, strict=True)]
        print("  ".join([*cells, verdict]).rstrip())
