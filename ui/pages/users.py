"""Users (bureau admin): the accounts, a new account (role, organisation, an analyst's districts, a password the
policy accepts), deactivating or reactivating an account and resetting its password to a one-time password (each
asked about once more; no account is chosen until the administrator chooses one)."""

import pandas as pd
import streamlit as st

from assessment import reference
from assessment.accounts import MIN_PASSWORD_LENGTH, ROLE_ORGANISATION, ROLES
from ui import builtin, bureau, confirm, session
from ui.i18n import t

SEARCH_LIMIT = 50

actor = bureau.page_actor("users")
services = session.services()
st.title(t("nav.users"))
bureau.show_flash()

ok, lists = bureau.attempt(lambda: (services.list_users(actor), services.list_providers(actor)))
if not ok:
    st.stop()
users, providers = lists
provider_names = {p.id: p.name for p in providers}


def organisation_names(organisation_ids: set[int]) -> dict[int, str]:
    """Names of the users' organisations (providers from the list, others one by one: bureaus and the few
    enterprises with accounts)."""
    names = dict(provider_names)
    for organisation_id in organisation_ids - names.keys():
        ok, org = bureau.attempt(lambda oid=organisation_id: services.get_organisation(actor, oid))
        names[organisation_id] = org.name if ok else str(organisation_id)
    return names


org_names = organisation_names({u.organisation_id for u in users if u.organisation_id is not None})
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
        st.text_input(t("bureau.users.organisation"), value=org_names.get(actor.organisation_id, bureau.DASH),
                      disabled=True, key="users_new_bureau")
    elif kind == "provider":
        organisation_id = st.selectbox(t("bureau.users.organisation"), list(provider_names), index=None,
                                       format_func=provider_names.get, key="users_new_provider",
                                       placeholder=t("bureau.org.choose"))
    else:
        search = st.text_input(t("bureau.users.enterprise_search"), key="users_new_search")
        if search.strip():
            ok, found = bureau.attempt(lambda: services.list_enterprises(actor, search=search))
            found = found[:SEARCH_LIMIT] if ok else []
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
            bureau.flash(t("bureau.users.created", username=username.strip()))
            st.rerun()

# -- deactivate / reactivate, reset the password -------------------------------------------------------------
st.subheader(t("bureau.users.switch"))
others = {u.id: u for u in users if u.id != actor.user_id}  # one's own account stays active


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
    name = target.display_name or target.username
    switch_column, reset_column = st.columns(2)
    with switch_column:
        if not target.active:
            if st.button(t("bureau.users.activate"), key="users_switch"):
                ok, _ = bureau.attempt(lambda: services.set_user_active(actor, target.id, True))
                if ok:
                    bureau.flash(t("bureau.users.activated", username=name))
                    st.rerun()
        elif confirm.asked(t("bureau.users.deactivate"), key="users_switch", kind="secondary",
                           question=t("bureau.users.deactivate_question", name=name, username=target.username)):
            ok, _ = bureau.attempt(lambda: services.set_user_active(actor, target.id, False))
            if ok:
                bureau.flash(t("bureau.users.deactivated", username=name))
                st.rerun()
    with reset_column:
        if confirm.asked(t("bureau.users.reset"), key="users_reset", kind="secondary",
                         help=t("bureau.users.reset_help"),
                         question=t("bureau.users.reset_question", name=name, username=target.username)):
            ok, password = bureau.attempt(lambda: services.reset_password(actor, target.id))
            if ok:
                st.session_state["users_one_time"] = (
                    t("bureau.users.reset_done", name=name, username=target.username), password)
                st.rerun()
