"""Organisations (bureau admin): find and edit enterprises, list providers, register an enterprise or a provider.

Every field goes to the service as typed; the service checks it (credit code, district, industry, …) and says
which field is wrong. Nothing is stored when anything is wrong."""

from typing import Any

import pandas as pd
import streamlit as st

from assessment import reference
from ui import builtin, bureau, paging, session
from ui.i18n import t
from ui.user_text import plain

CONTACTS = ("contact_name", "contact_phone", "contact_email")

actor = bureau.page_actor("organisations")
services = session.services()
st.title(t("nav.organisations"))
bureau.show_flash()


def blank_to_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: (value.strip() or None) if isinstance(value, str) else value for key, value in values.items()}


def follow_industry(prefix: str) -> None:
    """A new industry pre-selects its usual production type (the user may still change it)."""
    code = st.session_state.get(f"{prefix}industry")
    if code:
        st.session_state[f"{prefix}production_type"] = reference.industry(code).production_type


def choose(label: str, options: list, name, key: str, current, **more) -> Any:
    return st.selectbox(label, options, index=options.index(current) if current in options else None,
                        format_func=name, key=key, placeholder=t("bureau.org.choose"), **more)


def enterprise_fields(prefix: str, current=None) -> dict[str, Any]:
    """The widgets of every enterprise field (OrganisationInput), pre-filled from ``current``."""
    def now(field: str) -> Any:
        return getattr(current, field, None)

    left, right = st.columns(2)
    values = {
        "name": left.text_input(t("bureau.org.name"), value=now("name") or "", key=f"{prefix}name"),
        "credit_code": right.text_input(t("bureau.org.credit_code"), value=now("credit_code") or "",
                                        key=f"{prefix}credit_code", help=t("bureau.org.credit_code_help")),
    }
    with left:
        values["district"] = choose(t("bureau.col.district"), [d.code for d in reference.districts()],
                                    bureau.district_name, f"{prefix}district", now("district"))
        values["size_class"] = choose(t("bureau.col.size_class"), [c.code for c in reference.SIZE_CLASSES],
                                      bureau.size_name, f"{prefix}size_class", now("size_class"))
    with right:
        values["industry"] = choose(t("bureau.col.industry"), [i.code for i in reference.industries()],
                                    bureau.industry_name, f"{prefix}industry", now("industry"),
                                    on_change=follow_industry, args=(prefix,))
        values["production_type"] = choose(t("bureau.col.production_type"),
                                           [p.code for p in reference.PRODUCTION_TYPES], bureau.production_name,
                                           f"{prefix}production_type", now("production_type"))
    values.update(contact_fields(prefix, current))
    return values


def contact_fields(prefix: str, current=None) -> dict[str, Any]:
    row = st.columns(3)
    return {field: row[k].text_input(t(f"bureau.org.{field}"), value=getattr(current, field, None) or "",
                                     key=f"{prefix}{field}") for k, field in enumerate(CONTACTS)}


def forget(prefix: str) -> None:
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        del st.session_state[key]


tab_enterprises, tab_providers, tab_new_enterprise, tab_new_provider = st.tabs(
    [t("bureau.org.tab_enterprises"), t("bureau.org.tab_providers"), t("bureau.org.tab_new_enterprise"),
     t("bureau.org.tab_new_provider")], key="org_tabs")  # a key keeps the open tab across reruns

with tab_enterprises:
    row = st.columns(3)
    search = row[0].text_input(t("bureau.org.search"), key="org_search")
    district = row[1].selectbox(t("bureau.col.district"), [None, *(d.code for d in reference.districts())],
                                format_func=lambda c: t("bureau.filter.all") if c is None else bureau.district_name(c),
                                key="org_list_district", placeholder=t("bureau.filter.all"))
    industry = row[2].selectbox(t("bureau.col.industry"), [None, *(i.code for i in reference.industries())],
                                format_func=lambda c: t("bureau.filter.all") if c is None else bureau.industry_name(c),
                                key="org_list_industry", placeholder=t("bureau.filter.all"))
    page = paging.paged(lambda limit, offset: services.enterprises_page(
        actor, district=district, industry=industry, search=search, limit=limit, offset=offset),
        "org_page", of=(search.strip(), district, industry))
    if page is not None:
        if page.rows:
            shown = page.rows
            builtin.table(pd.DataFrame([{
                t("bureau.col.id"): e.id, t("bureau.org.name"): e.name, t("bureau.org.credit_code"): e.credit_code,
                t("bureau.col.district"): bureau.district_name(e.district),
                t("bureau.col.industry"): bureau.industry_name(e.industry),
                t("bureau.col.size_class"): bureau.size_name(e.size_class),
                t("bureau.col.production_type"): bureau.production_name(e.production_type),
                t("bureau.org.contact_name"): e.contact_name, t("bureau.org.contact_phone"): e.contact_phone,
            } for e in shown]), hide_index=True, key="org_enterprise_table")
            labels = {e.id: f"#{e.id} · {e.name}" for e in shown}
            editing = st.selectbox(t("bureau.org.edit"), list(labels), index=None, format_func=labels.get,
                                   key="org_edit_choice", placeholder=t("bureau.org.choose"))
            if editing is not None:
                ok, current = bureau.attempt(lambda: services.get_organisation(actor, editing))
                if ok:
                    prefix = f"org_edit_{editing}_"
                    values = enterprise_fields(prefix, current)
                    if st.button(t("bureau.org.save"), type="primary", key="org_edit_save"):
                        ok, _ = bureau.attempt(lambda: services.update_organisation(actor, editing,
                                                                                    **blank_to_none(values)))
                        if ok:
                            forget(prefix)
                            bureau.changed(t("bureau.org.updated", name=plain(values["name"])))
                            st.rerun()
        else:
            st.caption(t("bureau.org.no_match"))

with tab_providers:
    ok, providers = bureau.attempt(lambda: services.list_providers(actor))
    if ok and providers:
        builtin.table(pd.DataFrame([{
            t("bureau.col.id"): p.id, t("bureau.org.name"): p.name, t("bureau.org.contact_name"): p.contact_name,
            t("bureau.org.contact_phone"): p.contact_phone, t("bureau.org.contact_email"): p.contact_email,
        } for p in paging.rows(providers, "org_provider_page")]), hide_index=True, key="org_provider_table")
    elif ok:
        st.info(t("bureau.org.no_providers"))

with tab_new_enterprise:
    values = enterprise_fields("org_new_")
    if st.button(t("bureau.org.create_enterprise"), type="primary", key="org_create_enterprise"):
        ok, new_id = bureau.attempt(lambda: services.create_organisation(actor, kind="enterprise",
                                                                         **blank_to_none(values)))
        if ok:
            forget("org_new_")
            bureau.changed(t("bureau.org.created", name=plain(values["name"]), id=new_id))
            st.rerun()

with tab_new_provider:
    name = st.text_input(t("bureau.org.name"), key="org_provider_f_name")
    contacts = contact_fields("org_provider_f_")
    if st.button(t("bureau.org.create_provider"), type="primary", key="org_create_provider"):
        ok, new_id = bureau.attempt(lambda: services.create_organisation(
            actor, kind="provider", **blank_to_none({"name": name, **contacts})))
        if ok:
            forget("org_provider_f_")
            bureau.changed(t("bureau.org.created", name=plain(name), id=new_id))
            st.rerun()
