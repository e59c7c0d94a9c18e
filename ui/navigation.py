"""Which pages each role has. A page that is not listed for the signed-in role cannot be reached at all."""

from __future__ import annotations

import streamlit as st

from assessment.accounts import Actor
from ui.i18n import t

PAGES = "ui/pages"


def page(name: str, icon: str, default: bool = False) -> st.Page:
    return st.Page(f"{PAGES}/{name}.py", title=t(f"nav.{name}"), icon=icon, url_path=name, default=default)


ROLE_PAGES: dict[str, list[tuple[str, str]]] = {
    "bureau_admin": [("dashboard", "📊"), ("review", "✅"), ("requests", "📥"), ("organisations", "🏢"),
                     ("users", "👥"), ("downloads", "⬇️")],
    "bureau_analyst": [("dashboard", "📊"), ("downloads", "⬇️")],
    "provider_user": [("enterprises", "🏭"), ("interview", "📝"), ("results", "📈"), ("files", "📂")],
    "enterprise_user": [("assessments", "🗂️"), ("interview", "📝"), ("results", "📈"), ("files", "📂")],
}


def pages_for(actor: Actor | None, needs_setup: bool) -> list[st.Page]:
    if needs_setup:
        return [page("setup", "🛠️", default=True)]
    if actor is None:
        return [page("sign_in", "🔑", default=True)]
    listed = [page(name, icon, default=(k == 0)) for k, (name, icon) in enumerate(ROLE_PAGES[actor.role])]
    return [*listed, page("account", "👤")]
