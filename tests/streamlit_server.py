"""A real `streamlit run app.py` on a loopback port, for browser, load and fault tests.

``kill()`` ends it as a crash would (SIGKILL: no clean-up at all) and ``start()`` brings it back on the same port and
database, so that clients reconnect where they were.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assessment import PROJECT_ROOT
from assessment.setup_token import ENV as SETUP_TOKEN_ENV

# The set-up token every test server (and the tests' AppTests) is given, so that a test can type it in.
SETUP_TOKEN = "set-up-token-of-the-tests-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    def __init__(self, db_url: str, log: Path, script: str | Path = "app.py"):
        self.script = str(script)  # run from the project folder, so its .streamlit/config.toml applies
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url
        self.log = log.open("w")
        self.start()

    def start(self) -> None:
        """Start the server (again) on its port and database; returns once it answers its health check."""
        env = {SETUP_TOKEN_ENV: SETUP_TOKEN, **os.environ, "ASSESSMENT_DB_URL": self.db_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until_healthy()

    def kill(self) -> None:
        """End the server at once, as a crash would: SIGKILL, nothing flushed or closed by it."""
        self.process.kill()
        self.process.wait(timeout=15)

    def wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy on {self.url} within {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
