"""Browse a questionnaire: its hierarchy and every requirement with its interviewer guidance.

A placeholder until the app issue brings sign-in, the interview and results; it only renders.
"""

import streamlit as st

from assessment.questionnaire import load_cached, questionnaire_files

lang = "en" if st.sidebar.radio("语言 / Language", ["中文", "English"], horizontal=True) == "English" else "zh"
files = questionnaire_files()
path = st.sidebar.selectbox("问卷 / Questionnaire", files, format_func=lambda p: p.stem)
q = load_cached(path)

st.title(q.title(lang))
if q.description:
    st.caption(q.description(lang))
st.caption(f"{q.id} {q.version} · sha256 {q.sha256[:12]}… · {len(q.items)}")

for element in q.elements:
    st.header(f"{element.code} {element.name(lang)}")
    for sd in (s for s in q.subdomains if q.element_of[s.domain] == element.code):
        with st.expander(f"{sd.code} {sd.name(lang)}"):
            for item in (i for i in q.items if i.subdomain == sd.code):
                level = q.level_by_number[item.level].name(lang)
                st.markdown(f"**{item.id}** · L{item.level} {level} — {item.text(lang)}")
                st.caption(item.guidance(lang))
