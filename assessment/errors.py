"""Errors a user can cause and must be told about: each carries located, readable messages."""


class AssessmentError(Exception):
    """Bad input from a user. ``messages`` holds one located line per problem (file, path or item, what)."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class QuestionnaireError(AssessmentError):
    """A questionnaire file that cannot be used."""


class AnswerError(AssessmentError):
    """An answer set that does not fit its questionnaire."""
