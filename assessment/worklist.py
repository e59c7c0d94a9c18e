"""Finding the next thing to do: the bureau's return comment still open on a diagnosis and the requirements it
names, where to open a questionnaire, and the order of a work list (work to do and overdue deadlines first).

Pure functions over the stored records and the questionnaire; the services and the UI call them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from assessment import workflow
from assessment.models import Assessment, Review
from assessment.questionnaire import Questionnaire

# A diagnosis the bureau returned is back with its provider until handed in again: returned, then in progress.
BACK_WITH_PROVIDER = ("returned", "in_progress")

# A requirement id (DA.2.1) or a subdomain code (DA), not inside a longer word or number. Letters and digits only
# in ASCII: a comment in Chinese writes "请补充DA.2.1的证据" with no space around the id.
_CODE = re.compile(r"(?<![A-Za-z0-9.])([A-Za-z]{2}(?:\.\d+)*)(?![A-Za-z0-9]|\.\d)")


def open_return(a: Assessment, reviews: Sequence[Review]) -> Review | None:
    """The bureau's latest decision on ``a`` when it returned the diagnosis and the provider has not handed it in
    again (``reviews`` in the order they were made)."""
    if not reviews or a.status not in BACK_WITH_PROVIDER:
        return None
    latest = reviews[-1]
    return latest if latest.decision == "returned" else None


@dataclass(frozen=True)
class Named:
    """What a comment names: requirements (by id) and subdomains (those of the requirements and those named by
    their code in capitals), each in questionnaire order."""

    items: tuple[str, ...] = ()
    subdomains: tuple[str, ...] = ()


def named_in(q: Questionnaire, text: str | None, order: Sequence[str], profile: str | None = None) -> Named:
    """The requirements and subdomains ``text`` names. A requirement id is recognised in any case (da.2.1); a
    subdomain code only in capitals, so English words ("is", "in") are not taken for one. ``order`` lists the
    subdomain codes in questionnaire order; ``profile`` leaves out requirements that do not apply to it."""
    items: set[str] = set()
    subdomains: set[str] = set()
    for token in _CODE.findall(text or ""):
        upper = token.upper()
        item = q.item_by_id.get(upper)
        if item is not None and (profile is None or item.applies(profile)):
            items.add(item.id)
            subdomains.add(item.subdomain)
        elif token == upper and upper in q.node_names and upper in order:
            subdomains.add(upper)
    rank = {code: n for n, code in enumerate(order)}
    position = {item.id: n for n, item in enumerate(q.items)}
    return Named(items=tuple(sorted(items, key=lambda i: (rank[q.item_by_id[i].subdomain], position[i]))),
                 subdomains=tuple(sorted(subdomains, key=rank.__getitem__)))


def first_subdomain(progress: Mapping[str, tuple[int, int]], named: Iterable[str] = ()) -> str | None:
    """Where to open a questionnaire: the first subdomain a return comment names, else the first with a
    requirement left unanswered, else the first. ``progress`` maps subdomain → (answered, applicable) in
    questionnaire order."""
    for code in named:
        if code in progress:
            return code
    return next((code for code, (done, total) in progress.items() if done < total), next(iter(progress), None))


def to_do(role: str, a: Assessment) -> bool:
    """Whether the next step of ``a`` is the role's: a workflow move it makes, or answering it."""
    return any((move.kind, move.source, move.role) == (a.kind, a.status, role) for move in workflow.TRANSITIONS) \
        or (a.status in workflow.EDITABLE[a.kind] and _answers(role) == a.kind)


def overdue(role: str, a: Assessment, today: date) -> bool:
    """Work of the role whose deadline has passed."""
    return a.due_date is not None and a.due_date < today and to_do(role, a)


def urgency(role: str, a: Assessment, today: date) -> tuple:
    """A sort key: overdue work first, then returned diagnoses, then other work by deadline (the nearest first,
    none last), then what waits on others; the newest first among equals."""
    work = to_do(role, a)
    rank = 0 if overdue(role, a, today) else 1 if work and a.status == "returned" else 2 if work else 3
    return rank, (a.due_date or date.max) if work else date.max, -a.id


def _answers(role: str) -> str | None:
    return {"provider_user": workflow.DIAGNOSIS, "enterprise_user": workflow.SELF}.get(role)
