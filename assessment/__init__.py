"""Smart-factory diagnostic assessment: the domain (questionnaires, scoring, plans) and its services.

This package never imports Streamlit; the UI in ``ui/`` and the workbooks in ``reports/`` sit on top of it.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES_DIR = PROJECT_ROOT / "questionnaires"
