"""Files of an assessment: its diagnostic report, the offline interview template made for it, and the import of
filled templates (.xlsx, or a .zip of them), each file on its own and all or nothing."""

from __future__ import annotations

import streamlit as st

from reports.template import ImportCancelled
from ui import session, work
from ui.i18n import lang, t
from ui.user_text import plain

actor = session.require_actor()
services = session.services()
st.title(t("nav.files"))

assessment_id = work.pick("files", services.list_assessments(actor))
if assessment_id is None:
    st.info(t("work.files.none"))
    st.stop()
view = work.load(actor, assessment_id)
q = work.questionnaire(view)
aid = view.assessment.id
work.header(view, q)
language = lang()

st.subheader(t("work.files.report"))
st.caption(t("work.files.report_help"))
st.download_button(t("work.files.download_report"), type="primary", mime=work.XLSX,
                   file_name=t("work.files.report_name", id=aid),
                   data=session.guarded(lambda: work.report_bytes(services, actor, view, q, language), "report",
                                        assessment_id=aid))

st.subheader(t("work.files.template"))
st.caption(t("work.files.template_help", id=aid))
with_answers = st.checkbox(t("work.files.with_answers"), key=f"work_with_answers_{aid}")
st.download_button(t("work.files.download_template"), mime=work.XLSX,
                   file_name=t("work.files.template_name", id=aid),
                   data=session.guarded(lambda: work.template_bytes(view, q, language, with_answers),
                                        "template_with_answers" if with_answers else "template",
                                        assessment_id=aid))

st.subheader(t("work.files.upload"))
st.caption(t("work.files.upload_help", mb=work.UPLOAD_MB))
round_key = f"work_upload_round_{aid}"  # a new uploader after each import, so files are not imported twice
uploads = st.file_uploader(t("work.files.upload_label"), type=["xlsx", "zip"], accept_multiple_files=True,
                           key=f"work_upload_{aid}_{st.session_state.get(round_key, 0)}",
                           max_upload_size=work.UPLOAD_MB)
overwrite = st.checkbox(t("work.files.overwrite"), key=f"work_overwrite_{aid}", help=t("work.files.overwrite_help"))
if st.button(t("work.files.import"), disabled=not uploads, type="primary"):
    with st.spinner(t("work.files.importing")):
        try:
            st.session_state[f"work_imported_{aid}"] = work.import_uploads(
                services, actor, [(upload.name, upload.getvalue()) for upload in uploads], overwrite=overwrite,
                cancelled=session.ended())
        except ImportCancelled as stopped:  # the browser left: nothing was kept, and hardly anyone sees this
            session.show(stopped)
            st.stop()
    st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
    st.rerun()

for outcome in st.session_state.get(f"work_imported_{aid}", []):
    if outcome.error is None:
        st.success(t("work.files.imported", name=plain(outcome.name), answers=outcome.answers,
                     id=outcome.assessment_id) + (t("work.files.new_enterprise") if outcome.new_enterprise else ""))
    else:
        st.markdown(t("work.files.failed", name=plain(outcome.name)))
        session.show(outcome.error)
