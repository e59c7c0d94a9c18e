"""The demo database the workbook and dashboard benchmarks read, built once and reused.

Building 100,000 enterprises takes about 5 minutes, so the database is cached as a SQLite file under
``data/bench/`` (or ``--cache DIR``) whose name holds everything it depends on: the number of enterprises, the
seed and a digest of the files that shape it (the generator, the scoring, the models, the migrations and the
questionnaires). A change to any of them gives a new name, so a stale database is never reused, and it is removed
once its successor is built; an unchanged one is reused as it is. The file is built under a temporary name in a
child process (so that its memory does not count in the parent's figures) and renamed only once complete, so an
interrupted build leaves nothing that looks finished.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import sys
from pathlib import Path

from assessment import PROJECT_ROOT
from assessment.questionnaire import published

DEFAULT_CACHE = PROJECT_ROOT / "data" / "bench"
DEFAULT_SEED = 2026  # assessment.demo.generate's own default
# What the demo data is made from: a change in any of these files changes the cache key.
INPUTS = [*(PROJECT_ROOT / "assessment" / name for name in ("demo.py", "scoring.py", "results.py", "models.py")),
          *sorted((PROJECT_ROOT / "assessment" / "migrations" / "versions").glob("*.py")),
          *(version.path for version in published())]


def inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in INPUTS:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached_path(enterprises: int, seed: int = DEFAULT_SEED, cache: Path = DEFAULT_CACHE) -> Path:
    return Path(cache) / f"demo-{enterprises}-seed{seed}-{inputs_digest()}.db"


def _build(url: str, enterprises: int, seed: int) -> None:
    from assessment.db import Store
    from assessment.demo import generate

    store = Store(url)
    generate(store, enterprises, seed=seed, progress=lambda line: print(line, file=sys.stderr))
    store.dispose()


def demo_database(enterprises: int, seed: int = DEFAULT_SEED, cache: Path = DEFAULT_CACHE,
                  say=lambda line: print(line, file=sys.stderr)) -> str:
    """The ``sqlite:///`` URL of the cached demo database of these parameters, built first when missing."""
    path = cached_path(enterprises, seed, cache)
    if path.exists():
        say(f"reusing the cached demo database {path}")
        return f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.building-{os.getpid()}.db")
    for leftover in (partial, *(partial.with_name(partial.name + suffix) for suffix in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    say(f"building a demo database of {enterprises:,} enterprises (seed {seed}) at {path}; "
        "later runs reuse it")
    child = multiprocessing.get_context("spawn").Process(target=_build,
                                                         args=(f"sqlite:///{partial}", enterprises, seed))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"building the demo database failed (exit code {child.exitcode}); {partial} is left "
                         "for inspection")
    # Fold the write-ahead log into the file before the rename, so the cached file is complete on its own.
    connection = sqlite3.connect(partial)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        partial.with_name(partial.name + suffix).unlink(missing_ok=True)
    partial.replace(path)
    # Databases of the same parameters made by earlier code are never read again; 100,000 enterprises take
    # hundreds of megabytes, so they go.
    for stale in path.parent.glob(f"demo-{enterprises}-seed{seed}-*.db"):
        if stale != path and ".building-" not in stale.name:
            say(f"removing {stale.name}, built from earlier code")
            for file in (stale, *(stale.with_name(stale.name + suffix) for suffix in ("-wal", "-shm"))):
                file.unlink(missing_ok=True)
    return f"sqlite:///{path}"
