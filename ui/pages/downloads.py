"""Downloads (bureau admin and analyst): the bureau workbook and the raw answers (CSV, Parquet) for the selection
of the dashboard's filters, limited to what the actor may read. Each file is built only when its button is
clicked (``st.download_button(data=callable)``)."""

from functools import partial

import streamlit as st

from ui import bureau, session
from ui.i18n import lang, t

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

actor = bureau.page_actor("downloads")
store = session.services().store
st.title(t("nav.downloads"))
st.write(t("bureau.downloads.intro"))
filters = bureau.filter_bar(actor, store)
if filters is None:
    st.stop()

stamp = bureau.file_stamp()
st.subheader(t("bureau.downloads.workbook"))
st.caption(t("bureau.downloads.workbook_help"))
st.download_button(t("bureau.downloads.workbook_button"), icon=":material/table_view:", key="downloads_workbook",
                   data=session.guarded(partial(bureau.bureau_workbook_bytes, store, actor, filters, lang()),
                                        "bureau_workbook", filters=filters),
                   file_name=f"bureau-{stamp}.xlsx", mime=XLSX, on_click="ignore")
st.subheader(t("bureau.downloads.answers"))
st.caption(t("bureau.downloads.answers_help"))
left, right = st.columns(2)
left.download_button(t("bureau.downloads.csv_button"), icon=":material/description:", key="downloads_csv",
                     data=session.guarded(partial(bureau.answers_csv_bytes, store, actor, filters), "answers_csv",
                                          filters=filters),
                     file_name=f"answers-{stamp}.csv", mime="text/csv", on_click="ignore")
right.download_button(t("bureau.downloads.parquet_button"), icon=":material/dataset:", key="downloads_parquet",
                      data=session.guarded(partial(bureau.answers_parquet_bytes, store, actor, filters),
                                           "answers_parquet", filters=filters),
                      file_name=f"answers-{stamp}.parquet", mime="application/vnd.apache.parquet",
                      on_click="ignore")
