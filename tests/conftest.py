from pathlib import Path

import pytest

from assessment.questionnaire import Questionnaire, by_id, load

TESTS = Path(__file__).parent
MINI = TESTS / "data" / "mini.yaml"


@pytest.fixture(scope="session")
def cmmm() -> Questionnaire:
    return by_id("cmmm-2020")


@pytest.fixture(scope="session")
def mini() -> Questionnaire:
    return load(MINI)
