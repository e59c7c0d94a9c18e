"""Lists shown a page at a time: a page number control and which rows of how many are shown.

Every list page goes through ``paged``: the services hand out one page of a query (``Page``: its rows and how many
rows the whole list holds), so a rerun reads at most PAGE_SIZE rows however long the list is; a short list
already in memory (one enterprise's assessments, a review queue) is cut by ``rows`` the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import streamlit as st

from assessment.errors import AssessmentError
from assessment.services import Page
from ui import session
from ui.i18n import t

PAGE_SIZE = 50
T = TypeVar("T")


def paged(fetch: Callable[[int, int], Page[T]], key: str, *, of: Hashable = None,
          size: int = PAGE_SIZE) -> Page[T] | None:
    """The page of ``fetch(limit, offset)`` the user chose with the page control (``key``), the control itself when
    there is more than one page, and a line saying which rows of how many are shown. ``of``: what the list is of
    (its search and filters): when that changes, the list starts again at its first page. None (after saying why)
    when ``fetch`` is refused."""
    seen = f"{key}_of"
    if seen in st.session_state and st.session_state[seen] != of:
        st.session_state[key] = 1
    st.session_state[seen] = of
    number = st.session_state.get(key, 1)
    try:
        page = fetch(size, (number - 1) * size)
        last = max(1, -(-page.total // size))
        if number > last:  # the list got shorter since the page was chosen: its last page
            number = st.session_state[key] = last
            page = fetch(size, (number - 1) * size)
    except AssessmentError as error:
        session.show(error)
        return None
    if last > 1:
        st.number_input(t("paging.page", last=last), min_value=1, max_value=last, step=1, key=key)
    if page.total:
        first = (number - 1) * size + 1
        st.caption(t("paging.shown", first=f"{first:,}", last=f"{first + len(page.rows) - 1:,}",
                     total=f"{page.total:,}"))
    return page


def rows(items: Sequence[T], key: str, *, of: Hashable = None, size: int = PAGE_SIZE) -> list[T]:
    """``paged`` over a list already in memory: the rows of the chosen page."""
    page = paged(lambda limit, offset: Page(list(items[offset:offset + limit]), len(items)), key, of=of, size=size)
    return page.rows if page is not None else []
