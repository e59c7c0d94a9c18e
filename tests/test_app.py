"""The app starts and renders the questionnaire (a placeholder until the app issue)."""

from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT


def test_the_app_renders_the_cmmm_questionnaire_in_both_languages(cmmm):
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=30).run()
    assert not app.exception
    assert app.title[0].value == cmmm.title.zh
    assert len(app.expander) == len(cmmm.subdomains)
    app.sidebar.radio[0].set_value("English").run()
    assert app.title[0].value == cmmm.title.en
