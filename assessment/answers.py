"""Answer sets: the answers of one assessment, and the JSON / JSON Lines files that carry them.

An answer set reads ``{"questionnaire": "cmmm-2020", "profile": "discrete", "answers": {"OS.1.1": "full", …},
"enterprise": {…}}``; ``version`` and ``sha256`` may pin the exact questionnaire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from assessment.errors import AnswerError, AssessmentError, read_user_text
from assessment.questionnaire import Questionnaire, by_id
from assessment.scoring import check_answers


class AnswerSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaire: str
    profile: str
    answers: dict[str, str]
    version: str | None = None
    sha256: str | None = None
    enterprise: dict[str, Any] | None = None
    source: str = ""  # where it came from, for messages: "file.jsonl:3"


def read_answer_file(path: str | Path) -> list[AnswerSet]:
    """All answer sets of a ``.json`` (one set) or ``.jsonl`` (one per line) file, or AnswerError."""
    path = Path(path)
    if path.suffix.lower() not in (".json", ".jsonl"):
        raise AnswerError(f"{path}: answer files are .json or .jsonl")
    text = read_user_text(path, AnswerError)
    if path.suffix.lower() == ".json":
        return [_parse(text, str(path))]
    sets = [_parse(line, f"{path}:{n}") for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not sets:
        raise AnswerError(f"{path}: no answer sets in the file")
    return sets


def _parse(text: str, where: str) -> AnswerSet:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswerError(f"{where}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # a number longer than Python converts (4,300 digits)
        raise AnswerError(f"{where}: not valid JSON: {exc}") from None
    except RecursionError:
        raise AnswerError(f"{where}: not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise AnswerError(f"{where}: (top): an answer set must be a JSON object, not {type(data).__name__}")
    try:
        answer_set = AnswerSet.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _shown(".".join(str(part) for part in err["loc"])) if err["loc"] else "(top)"
        message = "missing" if err["type"] == "missing" else "unknown field" if err["type"] == "extra_forbidden" \
            else err["msg"]
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise AnswerError(f"{where}: {field}: {message}{more}") from None
    for item_id in answer_set.answers:
        if not item_id.isprintable() or not item_id.strip():  # it would break the one-line messages about it
            raise AnswerError(f"{where}: answers: {item_id!r} is not an item id")
    answer_set.source = where
    return answer_set


def _shown(text: str) -> str:
    """User text inside a message, quoted when it is blank, starts or ends with a space, or holds a line break or
    another invisible character: the message keeps its one-line ``where: field: what`` shape."""
    return text if text.isprintable() and text == text.strip() and text else repr(text)


def resolve(answer_set: AnswerSet, *, allow_incomplete: bool = False) -> Questionnaire:
    """The questionnaire an answer set belongs to, after checking the set against it: the version it names, or
    else the newest."""
    where = answer_set.source or "answer set"
    try:
        q = by_id(answer_set.questionnaire)
    except AssessmentError as exc:
        raise AnswerError(f"{where}: questionnaire: {exc.messages[0]}") from None
    if answer_set.version is not None:
        try:
            q = by_id(answer_set.questionnaire, answer_set.version)
        except AssessmentError as exc:
            raise AnswerError(f"{where}: version: {_shown(exc.messages[0])}") from None
    if answer_set.sha256 is not None and answer_set.sha256 != q.sha256:
        raise AnswerError(f"{where}: sha256: answers were made for other content of {q.id} than the file now holds")
    check_answers(q, answer_set.answers, answer_set.profile, allow_incomplete=allow_incomplete,
                  where=f"{where}: answers")
    return q
