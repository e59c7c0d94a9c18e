"""Errors a user can cause and must be told about: each carries located, readable messages."""

from pathlib import Path


class AssessmentError(Exception):
    """Bad input from a user. ``messages`` holds one located line per problem (file, path or item, what).

    A stable code and its parameters let the interface say the same thing in the user's language (the words are
    ``errors.<code>`` in ui/locales/*/errors.yaml). ``problems`` holds one ``(code, params)`` per message when an
    error lists several (a form's fields, a workbook's cells); the first one is also the error's own code.
    """

    def __init__(self, messages: list[str] | str, *, code: str | None = None,
                 problems: list[tuple[str, dict]] | None = None, **params):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.problems = list(problems or [])
        if code is None and self.problems:
            code, params = self.problems[0]
        self.code, self.params = code, params
        super().__init__("\n".join(self.messages))


class QuestionnaireError(AssessmentError):
    """A questionnaire file that cannot be used."""


class AnswerError(AssessmentError):
    """An answer set that does not fit its questionnaire."""


def read_user_text(path: Path, error: type[AssessmentError]) -> str:
    """A user's text file as UTF-8, or ``error`` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1  # so that the editor can jump there
        raise error(f"{path}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
