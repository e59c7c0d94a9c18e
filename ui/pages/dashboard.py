"""Dashboard (bureau admin and analyst): filters → KPIs, levels against the national figures, district × domain
heatmap, the monthly trend and provider performance with tiers.

Every figure is an aggregate computed in the database over what the actor may read (``ui.bureau.aggregate``,
cached per scope and filters). The tabs run lazily: a rerun computes only the KPIs and the open tab's figures, all
at once (``bureau.prefetch``).
"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from assessment import analytics
from assessment.analytics import LEVELS, NATIONAL
from assessment.questionnaire import by_id
from ui import builtin, bureau, session
from ui.i18n import lang, t

actor = bureau.page_actor("dashboard")
store = session.services().store
st.title(t("nav.dashboard"))
filters = bureau.filter_bar(actor, store)
if filters is None:
    st.stop()

# The KPIs sit above the tabs, but are filled in once the open tab is known: the figures this rerun shows are
# then computed at once (``prefetch``), and the calls below find them in the cache.
kpi_area = st.container()
tabs = st.tabs([t("bureau.dash.tab_levels"), t("bureau.dash.tab_heatmap"), t("bureau.dash.tab_trend"),
                t("bureau.dash.tab_providers")], key="bureau_dashboard_tab", on_change="rerun")
TAB_FIGURES = (None, "heatmap", "trend", "providers")
bureau.prefetch(["levels", "started", *(name for tab, name in zip(tabs, TAB_FIGURES, strict=True)
                                          if tab.open and name)], store, actor, filters)

with kpi_area:
    distribution = bureau.figure("levels", store, actor, filters)
    started = bureau.figure("started", store, actor, filters)
    row = st.columns(3)
    row[0].metric(t("bureau.kpi.diagnosed"), f"{distribution.total:,}", help=t("bureau.kpi.diagnosed_help"))
    row[1].metric(t("bureau.kpi.mean_score"), bureau.decimal(distribution.mean_score))
    row[2].metric(t("bureau.kpi.started"),
                  bureau.percent(started / distribution.total if distribution.total else None),
                  help=t("bureau.kpi.started_help"))
    row = st.columns(len(LEVELS))
    for level, share, count in zip(LEVELS, distribution.shares, distribution.counts, strict=True):
        row[level].metric(t("bureau.kpi.level_share", level=level),
                          bureau.percent(share if distribution.total else None),
                          help=t("bureau.kpi.level_help", name=bureau.level_name(level), count=count))
    if not distribution.total:
        st.info(t("bureau.dash.no_data"))

with tabs[0]:
    if tabs[0].open:
        comparison = analytics.national_comparison(distribution)
        labels = [row.group.label(lang()) for row in comparison]
        figure = go.Figure([go.Bar(name=t("bureau.dash.here"), x=labels, y=[row.share for row in comparison],
                                   text=[bureau.percent(row.share) for row in comparison])])
        for year in NATIONAL:
            figure.add_bar(name=t("bureau.dash.national", year=year), x=labels,
                           y=[row.national[year] for row in comparison],
                           text=[bureau.percent(row.national[year]) for row in comparison])
        figure.update_layout(barmode="group", yaxis_tickformat=".0%", margin={"t": 30}, legend_orientation="h")
        builtin.chart(figure, key="bureau_chart_levels")
        st.caption(t("bureau.dash.national_source"))
        if not distribution.weights_official:
            st.info(t("bureau.dash.national_indicative"))

with tabs[1]:
    if tabs[1].open:
        heatmap = bureau.figure("heatmap", store, actor, filters)
        if heatmap.districts:
            names = by_id(analytics.DEFAULT_QUESTIONNAIRE).node_names
            figure = go.Figure(go.Heatmap(
                z=[list(row) for row in heatmap.means], x=[names[d](lang()) for d in heatmap.domains],
                y=[bureau.district_name(d) for d in heatmap.districts], zmin=0, zmax=5, colorscale="Blues",
                text=[[bureau.decimal(v) for v in row] for row in heatmap.means], texttemplate="%{text}",
                colorbar_title=t("bureau.dash.maturity")))
            figure.update_layout(margin={"t": 30}, yaxis_autorange="reversed",
                                 height=max(300, 40 * len(heatmap.districts) + 120))
            builtin.chart(figure, key="bureau_chart_heatmap")
            st.caption(t("bureau.dash.heatmap_note"))
        else:
            st.info(t("bureau.dash.no_data"))

with tabs[2]:
    if tabs[2].open:
        months = bureau.figure("trend", store, actor, filters)
        if months:
            labels = [m.label for m in months]
            figure = go.Figure([
                go.Bar(name=t("bureau.dash.diagnoses"), x=labels, y=[m.diagnoses for m in months]),
                go.Scatter(name=t("bureau.dash.mean_level"), x=labels, y=[m.mean_level for m in months],
                           yaxis="y2", mode="lines+markers"),
            ])
            figure.update_layout(
                margin={"t": 30}, legend_orientation="h", xaxis_type="category",
                yaxis={"title": t("bureau.dash.diagnoses")},
                yaxis2={"title": t("bureau.dash.mean_level"), "overlaying": "y", "side": "right", "range": [0, 5]})
            builtin.chart(figure, key="bureau_chart_trend")
            st.caption(t("bureau.dash.trend_note"))
        else:
            st.info(t("bureau.dash.no_data"))

with tabs[3]:
    if tabs[3].open:
        providers = bureau.figure("providers", store, actor, filters)
        if providers:
            table = pd.DataFrame([{
                t("bureau.prov.name"): p.name, t("bureau.prov.tier"): bureau.tier_name(p.tier),
                t("bureau.prov.composite"): p.composite, t("bureau.prov.assigned"): p.assigned,
                t("bureau.prov.submitted"): p.submitted, t("bureau.prov.on_time"): p.on_time_rate,
                t("bureau.prov.decided"): p.decided, t("bureau.prov.approval"): p.approval_rate,
                t("bureau.prov.return"): p.return_rate, t("bureau.prov.rating"): p.mean_rating,
                t("bureau.prov.project_rate"): p.project_rate,
            } for p in providers])
            rates = ("composite", "on_time", "approval", "return", "project_rate")
            builtin.table(table, hide_index=True, key="bureau_table_providers", column_config={
                **{t(f"bureau.prov.{name}"): st.column_config.NumberColumn(format="percent") for name in rates},
                t("bureau.prov.rating"): st.column_config.NumberColumn(format="%.2f"),
            })
            st.caption(t("bureau.prov.note", n=analytics.MIN_DECIDED_FOR_TIER))
        else:
            st.info(t("bureau.dash.no_data"))
