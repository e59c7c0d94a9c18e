"""LibreOffice, the real spreadsheet program that checks our workbooks open (Debian package libreoffice-calc)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(workbook: Path, to: str = "pdf", timeout: int = 180) -> Path:
    """Open ``workbook`` in headless LibreOffice and save it as ``to``; return the converted file.

    Raises RuntimeError with LibreOffice's output when it cannot open or convert the file."""
    out = Path(tempfile.mkdtemp(prefix="lo-out-"))
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))  # a private profile: conversions may run in parallel
    proc = subprocess.run([soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                           "--convert-to", to, "--outdir", str(out), str(workbook)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    shutil.rmtree(profile, ignore_errors=True)
    produced = list(out.glob(f"*.{to.split(':', maxsplit=1)[0]}"))
    if proc.returncode != 0 or not produced or produced[0].stat().st_size == 0:
        raise RuntimeError(f"LibreOffice could not convert {workbook}: {proc.stdout} {proc.stderr}")
    return produced[0]
