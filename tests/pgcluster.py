"""A throwaway PostgreSQL cluster on a loopback port, for tests (initdb + pg_ctl from Debian's postgresql).

    python -m tests.pgcluster start       # prints the server's base URL and the cluster's folder
    python -m tests.pgcluster stop DIR

The test suite starts one itself when ASSESSMENT_TEST_PG_URL is not set (tests/conftest.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

OWNER = "postgres"  # initdb refuses to run as root; as root we run the server as this system user


def binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> bool:
    return binary("initdb") is not None and binary("pg_ctl") is not None


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", OWNER, "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start() -> tuple[str, Path]:
    """Create and start a cluster in a new folder under the temporary directory (which the server's user can
    reach); return ``postgresql+psycopg://postgres@127.0.0.1:PORT`` and the folder."""
    directory = Path(tempfile.mkdtemp(prefix="assessment-pg-"))
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, OWNER)
    port = _free_port()
    run = lambda *args: subprocess.run(_as_owner(list(args)), check=True, capture_output=True, text=True)  # noqa: E731
    run(binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
    run(binary("pg_ctl"), "-D", str(data), "-l", str(directory / "server.log"), "-w", "-t", "60", "-o",
        f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=on -c max_connections=200", "start")
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}", directory


def stop(directory: str | Path) -> None:
    directory = Path(directory)
    if (directory / "data").exists():
        subprocess.run(_as_owner([binary("pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "-w", "stop"]),
                       check=False, capture_output=True)
    shutil.rmtree(directory, ignore_errors=True)


def halt(directory: str | Path) -> None:
    """Stop the cluster's server (fast: sessions are disconnected), keeping its data, to start it again."""
    subprocess.run(_as_owner([binary("pg_ctl"), "-D", str(Path(directory) / "data"), "-m", "fast", "-w", "stop"]),
                   check=True, capture_output=True)


def resume(directory: str | Path, url: str) -> None:
    """Start a halted cluster again on the port of its ``url``."""
    directory, port = Path(directory), url.rsplit(":", 1)[1].split("/", 1)[0]
    options = f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=on -c max_connections=200"  # as start() gives them
    subprocess.run(_as_owner([binary("pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "server.log"),
                              "-w", "-t", "60", "-o", options, "start"]), check=True, capture_output=True)


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "start":
        print(*start())
    elif action == "stop" and len(sys.argv) == 3:
        stop(sys.argv[2])
    else:
        sys.exit(f"usage: python -m tests.pgcluster start|stop DIR (got {action!r})")
