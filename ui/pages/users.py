"""Users (bureau admin): the accounts, a new account (role, organisation, an analyst's districts, a password the
policy accepts), deactivating or reactivating an account and resetting its password to a one-time password (each
asked about once more; no account is chosen until the administrator chooses one)."""

import pandas as pd
import streamlit as st

from assessment import reference
from assessment.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLE_ORGANISATION,
    ROLES,
    is_locked,
    locked_minutes,
    username_key,
)
from ui import builtin, bureau, confirm, paging, session
from ui.i18n import t
from ui.user_text import plain

SEARCH_LIMIT = 50

actor = bureau.page_actor("users")
services = session.services()
st.title(t("nav.users"))
bureau.show_flash()

ok, providers = bureau.attempt(lambda: services.list_providers(actor))
if not ok:
    st.stop()
provider_names = {p.id: p.name for p in providers}

# One page of accounts, each read with its organisation in the same query (not one query per account).
account_search = st.text_input(t("bureau.users.search"), key="users_search")
page = paging.paged(lambda limit, offset: services.users_page(actor, search=account_search, limit=limit,
                                                              offset=offset), "users_page", of=account_search.strip())
if page is None:
    st.stop()
users = [user for user, _ in page.rows]
org_names = {user.organisation_id: org.name for user, org in page.rows if org is not None}
builtin.table(pd.DataFrame([{
    t("bureau.users.username"): u.username, t("bureau.users.display_name"): u.display_name,
    t("bureau.users.role"): t(f"role.{u.role}"),
    t("bureau.users.organisation"): org_names.get(u.organisation_id, bureau.DASH),
    t("bureau.users.districts"): bureau.listed(bureau.district_name(d) for d in u.districts) if u.districts
    else (t("bureau.users.all_districts") if u.role == "bureau_analyst" else bureau.DASH),
    t("bureau.users.active"): t("common.yes") if u.active else t("common.no"),
    t("bureau.users.last_login"): bureau.day(u.last_login_at),
} for u in users]), hide_index=True, key="users_table")

# -- a new account -------------------------------------------------------------------------------------------
st.subheader(t("bureau.users.new"))
left, right = st.columns(2)
username = left.text_input(t("bureau.users.username"), key="users_new_username")
display_name = right.text_input(t("bureau.users.display_name"), key="users_new_display_name")
role = left.selectbox(t("bureau.users.role"), ROLES, format_func=lambda r: t(f"role.{r}"), key="users_new_role",
                      placeholder=builtin.choose())
organisation_id = None
districts = None
with right:
    kind = ROLE_ORGANISATION[role]
    if kind == "bureau":
        organisation_id = actor.organisation_id
        ok, own = bureau.attempt(lambda: services.get_organisation(actor, actor.organisation_id))
        st.text_input(t("bureau.users.organisation"), value=own.name if ok else bureau.DASH,
                      disabled=True, key="users_new_bureau")
    elif kind == "provider":
        organisation_id = st.selectbox(t("bureau.users.organisation"), list(provider_names), index=None,
                                       format_func=provider_names.get, key="users_new_provider",
                                       placeholder=t("bureau.org.choose"))
    else:
        search = st.text_input(t("bureau.users.enterprise_search"), key="users_new_search")
        if search.strip():
            ok, found = bureau.attempt(lambda: services.list_enterprises(actor, search=search, limit=SEARCH_LIMIT))
            found = found if ok else []
            names = {e.id: f"{e.name} · {e.credit_code or bureau.DASH}" for e in found}
            organisation_id = st.selectbox(t("bureau.users.organisation"), list(names), index=None,
                                           format_func=names.get, key="users_new_enterprise",
                                           placeholder=t("bureau.org.choose"))
if role == "bureau_analyst":
    chosen = st.multiselect(t("bureau.users.districts"), [d.code for d in reference.districts()],
                            format_func=bureau.district_name, key="users_new_districts",
                            help=t("bureau.users.districts_help"), placeholder=builtin.choose_many())
    districts = chosen or None
left, right = st.columns(2)
password = left.text_input(t("bureau.users.password"), type="password", key="users_new_password")
again = right.text_input(t("bureau.users.password_again"), type="password", key="users_new_again")
st.caption(t("bureau.users.password_help", n=MIN_PASSWORD_LENGTH))
if st.button(t("bureau.users.create"), type="primary", key="users_create"):
    if password != again:
        st.error(t("bureau.users.mismatch"))
    else:
        ok, _ = bureau.attempt(lambda: services.create_user(actor, username, display_name, password, role,
                                                            organisation_id, districts))
        if ok:
            for key in [key for key in st.session_state if str(key).startswith("users_new_")]:
                del st.session_state[key]
            bureau.flash(t("bureau.users.created", username=plain(username_key(username))))  # as it is kept
            st.rerun()

# -- deactivate / reactivate, reset the password -------------------------------------------------------------
st.subheader(t("bureau.users.switch"))
others = {u.id: u for u in users if u.id != actor.user_id}  # of the page shown; one's own account stays active


def person(uid: int) -> str:
    u = others[uid]
    return t("bureau.users.person", name=u.display_name or u.username, username=u.username, role=t(f"role.{u.role}"),
             state=t("bureau.users.is_active") if u.active else t("bureau.users.is_inactive"))


chosen_id = st.selectbox(t("bureau.users.account"), list(others), index=None, format_func=person,
                         key="users_switch_choice", placeholder=t("bureau.users.choose_account"),
                         on_change=confirm.forget) if others else None
one_time = st.session_state.pop("users_one_time", None)  # shown once, right after the reset
if one_time is not None:
    st.success(one_time[0])
    st.code(one_time[1], language=None)
if chosen_id is not None:
    target = others[chosen_id]
    name = plain(target.display_name or target.username)  # said in the messages below, which are Markdown
    switch_column, reset_column = st.columns(2)
    with switch_column:
        if not target.active:
            if st.button(t("bureau.users.activate"), key="users_switch"):
                ok, _ = bureau.attempt(lambda: services.set_user_active(actor, target.id, True))
                if ok:
                    bureau.flash(t("bureau.users.activated", username=name))
                    st.rerun()
        elif confirm.asked(t("bureau.users.deactivate"), key="users_switch", kind="secondary",
                           question=t("bureau.users.deactivate_question", name=name, username=plain(target.username))):
            ok, _ = bureau.attempt(lambda: services.set_user_active(actor, target.id, False))
            if ok:
                bureau.flash(t("bureau.users.deactivated", username=name))
                st.rerun()
    with reset_column:
        if confirm.asked(t("bureau.users.reset"), key="users_reset", kind="secondary",
                         help=t("bureau.users.reset_help"),
                         question=t("bureau.users.reset_question", name=name, username=plain(target.username))):
            ok, password = bureau.attempt(lambda: services.reset_password(actor, target.id))
            if ok:
                st.session_state["users_one_time"] = (
                    t("bureau.users.reset_done", name=name, username=plain(target.username)), password)
                st.rerun()
    if is_locked(target):  # after repeated failed sign-ins; the administrator may end it before its time
        st.warning(t("bureau.users.locked", name=name, minutes=locked_minutes(target)))
        if st.button(t("bureau.users.unlock"), key="users_unlock", help=t("bureau.users.unlock_help")):
            ok, _ = bureau.attempt(lambda: services.unlock_user(actor, target.id))
            if ok:
                bureau.flash(t("bureau.users.unlocked", username=name))
                st.rerun()
