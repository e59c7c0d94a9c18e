"""Which pages each role has. A page that is not listed for the signed-in role cannot be reached at all."""

from __future__ import annotations

import streamlit as st

from assessment.accounts import Actor
from ui.i18n import t

PAGES = "ui/pages"


def page(name: str, default: bool = False) -> st.Page:
    return st.Page(f"{PAGES}/{name}.py", title=t(f"nav.{name}"), icon=f":material/{ICONS[name]}:", url_path=name,
                   default=default)


ICONS = {"dashboard": "monitoring", "review": "fact_check", "requests": "assignment_ind", "organisations": "apartment",
         "users": "group", "downloads": "download", "enterprises": "factory", "interview": "edit_note",
         "results": "insights", "files": "folder_open", "assessments": "inventory_2", "setup": "settings",
         "sign_in": "login", "account": "person", "archive": "folder_shared"}
ROLE_PAGES: dict[str, list[str]] = {
    "bureau_admin": ["dashboard", "review", "requests", "archive", "organisations", "users", "downloads"],
    "bureau_analyst": ["dashboard", "archive", "downloads"],
    "provider_user": ["enterprises", "interview", "results", "files"],
    "enterprise_user": ["assessments", "interview", "results", "files"],
}


def pages_for(actor: Actor | None, needs_setup: bool) -> list[st.Page]:
    if needs_setup:
        return [page("setup", default=True)]
    if actor is None:
        return [page("sign_in", default=True)]
    if actor.must_change_password:  # a one-time password set by an administrator opens only its replacement
        return [page("account", default=True)]
    return [*(page(name, default=(k == 0)) for k, name in enumerate(ROLE_PAGES[actor.role])), page("account")]
