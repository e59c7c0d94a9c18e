"""No user text is ever Markdown or HTML in the app (issue 11): a hostile payload in every text a user can give,
then every page of every role, with the tabs, choices and questions that show those texts.

Streamlit reads Markdown in many places: markdown, write, caption, titles and headers, alerts, the labels and
help texts of widgets, a radio's options, expander and tab labels, metric values, progress texts. Besides CommonMark it
links bare addresses (``http://…``, ``www.…``, e-mail addresses), turns ``:material/…:`` and ``:streamlit:``
into pictures, ``:red[…]`` into colour, ``$…$`` into maths and ``--``/``->`` into dashes and arrows — the last
ones in the text *after* backslash escapes are undone. Each such text on a page must hold the payload only in
a form that draws nothing (``drawn_markup``) and still reads as typed (``shown_as``). Data tables
(``st.dataframe``) and the values of inputs and the options of select boxes are plain text, so they are not
checked; a Plotly chart's names are its own HTML and are checked apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from assessment import PROJECT_ROOT, sessions
from assessment.accounts import authenticate
from tests.conftest import PASSWORD, credit_code, enterprise_fields
from tests.test_security_app import everything_shown
from ui import session, work

APP = str(PROJECT_ROOT / "app.py")


def lure(tag: str) -> str:
    """A payload that draws a link, an image, HTML, bold, colour, maths, an icon, three autolinks, a dash and a
    heading when read as Markdown; 99 characters, within the shortest text field (a contact's name)."""
    return f"{tag}[a](http://e.x/l)![i](http://e.x/i)<img>**b**:red[x]$x$:material/home: www.e.x m@e.x a -- b\n# h"


# Texts of a single-line format: a phone (digits, spaces, + - ( )), an e-mail address, a user name (. _ - @).
PHONE = "(5550199) -- 42"
EMAIL = "ZQ04[a](http://e.x/l)**b**<img>@e.x"
USERNAME = "_zq05_@www.e.x"
# Markdown drawn from the payload: the source read as CommonMark and Streamlit's own syntax…
SOURCE_MARKUP = re.compile(r"(?<!\\)\]\(|(?<!\\)<img|\*\*b\*\*|:red\[|\$x\$|^[ \t]*#+ |_zq05_",
                           re.MULTILINE)
# …and what is found in the text once escapes are undone: autolinks, pictures, typography.
TEXT_MARKUP = re.compile(r"https?://|www\.|\w@\w|:material[/_]\w+:|:streamlit:|(?:^|\s)--(?:\s|$)",
                         re.IGNORECASE | re.MULTILINE)
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark's backslash escapes (any ASCII punctuation)
INVISIBLE = "\u2060"  # the word joiner, which may break what the text pass would link or draw


def drawn_markup(markdown: str) -> list[str]:
    """What ``markdown`` draws of a payload instead of showing it as typed (empty when nothing)."""
    text = ESCAPE.sub(r"\1", markdown)
    return [m.group(0) for m in SOURCE_MARKUP.finditer(markdown)] + [m.group(0) for m in TEXT_MARKUP.finditer(text)]


def shown_as(markdown: str) -> str:
    """The text a reader sees of ``markdown`` when it draws nothing: escapes undone, white space as one."""
    return " ".join(ESCAPE.sub(r"\1", markdown).replace(INVISIBLE, "").split())


def test_the_checks_catch_markdown_and_pass_escaped_text():
    payload = lure("ZQ99")
    assert len(drawn_markup(payload)) >= 10
    escaped = ("ZQ99\\[a\\](http\\:\u2060//e.x/l)!\\[i\\](http\\:\u2060//e.x/i)\\<img\\>\\*\\*b\\*\\*"
               "\\:\u2060red\\[x\\]\\$x\\$\\:\u2060material/home\\: www\u2060.e.x m\u2060@e.x a -\u2060- b\n\\# h")
    assert drawn_markup(escaped) == []
    assert shown_as(escaped) == " ".join(payload.split())


# --- reading a page --------------------------------------------------------------------------------------------

MARKDOWN_FIELDS = {"body", "label", "help", "text", "delta"}  # the fields of elements and blocks read as Markdown
PLAIN_ELEMENTS = {"Html", "Text", "Code", "Json", "Exception", "Arrow", "PlotlyChart"}  # never Markdown


def markdown_texts(app: AppTest) -> Iterator[str]:
    """Every text of the page that Streamlit reads as Markdown."""
    for node in app._tree:
        proto = getattr(node, "proto", None)
        if proto is not None and type(proto).__name__ not in PLAIN_ELEMENTS:
            yield from _markdown_fields(proto)


def _markdown_fields(message) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.message_type is not None:
            for part in ([value] if hasattr(value, "ListFields") else value):  # one message or repeated
                if type(part).__name__ not in PLAIN_ELEMENTS:
                    yield from _markdown_fields(part)
        elif field.name in MARKDOWN_FIELDS and isinstance(value, str):
            yield value
        elif field.name == "options" and type(message).__name__ == "Radio":  # a radio's options are Markdown
            yield from value


def chart_names(app: AppTest) -> Iterator[str]:
    """The trace names and category labels of every Plotly chart (Plotly reads <a>, <b>, <br>… in them)."""
    for chart in app.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec).get("data", []):
            yield str(trace.get("name", ""))
            yield from (str(label) for label in trace.get("theta", []) or [])


class Pages:
    """Every page seen, with what each showed of the payloads."""

    def __init__(self):
        self.markdown: dict[str, list[str]] = {}  # where → texts read as Markdown that hold a tag
        self.charts: dict[str, list[str]] = {}  # where → chart names holding HTML of a payload
        self.anywhere = ""  # everything shown, to see that each payload reached a page

    def see(self, where: str, app: AppTest) -> AppTest:
        assert not app.exception, (where, app.exception)
        self.markdown[where] = [text for text in markdown_texts(app) if "ZQ" in text or "zq" in text]
        self.charts[where] = [name for name in chart_names(app) if "<img" in name or "<a" in name]
        self.anywhere += everything_shown(app)
        return app


def open_page(actor, page: str, **params: str) -> AppTest:
    """A tab signed in as ``actor`` (a session row and its token, as the sign-in page makes) on ``page``."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.session_state["actor"] = actor
    app.session_state["token"] = sessions.open_session(session.services().store, actor)
    app.run()
    app.switch_page(f"ui/pages/{page}.py")
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


# --- the world: a payload in every text a user can give -------------------------------------------------------


@pytest.fixture
def hostile(app_world):
    """The app's world with a payload in each user text; returns (services, world, the hostile provider user)."""
    services, w = app_world
    admin, enterprise = w.admin, w.enterprise_1
    services.update_organisation(admin, w.enterprise_1_id, **{**enterprise_fields(1, "gusu"), "name": lure("ZQ01"),
                                 "contact_name": lure("ZQ02"), "contact_phone": PHONE, "contact_email": EMAIL})
    services.update_organisation(admin, w.provider_a_id, name=lure("ZQ06"), contact_name=lure("ZQ07"))
    services.create_user(admin, USERNAME, lure("ZQ08"), PASSWORD, "provider_user", w.provider_a_id)
    provider = authenticate(services.store, USERNAME, PASSWORD)

    def version(assessment_id: int) -> int:
        return services.get_assessment(admin, assessment_id).assessment.version

    # The confirmed diagnosis goes back with a comment, is answered by the hostile user (a diagnostician),
    # handed in and confirmed with a comment again: it waits in the review queue with its history.
    d = w.confirmed_1
    services.move(admin, d, "return", expected_version=version(d), comment=lure("ZQ10"))
    v = services.move(provider, d, "resume", expected_version=version(d))
    v = services.save_answer(provider, d, "OS.1.1", "partly", note=lure("ZQ11"), evidence=lure("ZQ12"),
                             expected_version=v)
    _, v = services.add_project(provider, d, title=lure("ZQ13"), expected_benefit=lure("ZQ14"), subdomain="PO",
                                expected_version=v)
    v = services.save_profile(provider, d, main_products=lure("ZQ15"), other_systems=lure("ZQ16"),
                              industrial_platform=lure("ZQ17"), cybersecurity=lure("ZQ18"), expected_version=v)
    v = services.move(provider, d, "submit", expected_version=v)
    services.move(enterprise, d, "confirm", expected_version=v, rating=2, comment=lure("ZQ19"))
    # The submitted one is confirmed and returned with a comment: open work for the provider.
    d = w.submitted_1
    v = services.move(enterprise, d, "confirm", expected_version=version(d), rating=3, comment=lure("ZQ20"))
    services.move(admin, d, "return", expected_version=v, comment=lure("ZQ21"))
    # The diagnosis in progress and the self-assessment get answers, a project and a profile.
    d = w.diagnosis_1
    v = services.save_answer(provider, d, "OS.1.1", "partly", note=lure("ZQ22"), evidence=lure("ZQ23"),
                             expected_version=version(d))
    _, v = services.add_project(provider, d, title=lure("ZQ24"), expected_benefit=lure("ZQ25"), expected_version=v)
    services.save_profile(provider, d, main_products=lure("ZQ26"), expected_version=v)
    d = w.self_1
    v = services.save_answer(enterprise, d, "OS.1.1", "partly", note=lure("ZQ27"), expected_version=version(d))
    services.save_profile(enterprise, d, cybersecurity=lure("ZQ28"), expected_version=v)
    return services, w, provider


# Payloads that must reach a text read as Markdown somewhere (the others reach tables and inputs only).
IN_MARKDOWN = {"ZQ01", "ZQ02", "ZQ04", "ZQ06", "ZQ08", "ZQ10", "ZQ13", "ZQ19", "ZQ20", "ZQ21", "ZQ24",
               "ZQ40", "ZQ41", "zq05"}
EVERYWHERE = IN_MARKDOWN | {f"ZQ{n:02d}" for n in (7, 11, 12, 14, 15, 16, 17, 18, 22, 23, 25, 26, 27, 28)}


BAD_FILE_NAME = "ZQ41[a](mailto:m@e.x)**b**<img>:red[x]$x$:material_home: www.e.x.xlsx"
# What each payload reads as where it is shown (an address's text is quoted up to 40 characters).
TYPED = {tag: lure(tag) for tag in IN_MARKDOWN if tag.startswith("ZQ")} | {
    "ZQ04": EMAIL, "ZQ40": lure("ZQ40")[:40], "ZQ41": BAD_FILE_NAME, "zq05": USERNAME}


def click(app: AppTest, label: str) -> AppTest:
    return next(button for button in app.button if button.label == label).click().run()


def test_no_user_text_is_markdown_on_any_page_of_any_role(hostile):
    services, w, provider = hostile
    seen = Pages()
    confirmed, returned = w.confirmed_1, w.submitted_1

    # The bureau's administrator: every page, the review opened with its approval asked about, the records.
    for page in ("dashboard", "requests", "downloads", "account"):
        seen.see(f"admin {page}", open_page(w.admin, page))
    app = open_page(w.admin, "review")
    app.selectbox(key="review_open").set_value(confirmed).run()
    app.button(key=f"review_approve_{confirmed}").click().run()
    seen.see("admin review", app)
    app = open_page(w.admin, "archive")
    app.text_input(key="archive_search").input(credit_code(1)).run()
    app.selectbox(key=f"archive_open_{w.enterprise_1_id}").set_value(confirmed).run()
    seen.see("admin archive", app)
    app = open_page(w.admin, "organisations")
    app.text_input(key="org_search").input(credit_code(1)).run()
    app.selectbox(key="org_edit_choice").set_value(w.enterprise_1_id).run()
    app.button(key="org_edit_save").click().run()  # saved as it is: the message names the enterprise
    seen.see("admin organisations", app)
    app = open_page(w.admin, "requests")
    app.selectbox(key="requests_assign_request").set_value(w.requested_1)
    app.selectbox(key="requests_assign_provider").set_value(w.provider_a_id)
    seen.see("admin requests, assigned", click(app, "分派"))  # the message names the provider

    # The analyst: its pages, the records opened on the diagnosis.
    for page in ("dashboard", "downloads"):
        seen.see(f"analyst {page}", open_page(w.analyst, page))
    app = open_page(w.analyst, "archive")
    app.text_input(key="archive_search").input(credit_code(1)).run()
    app.selectbox(key=f"archive_open_{w.enterprise_1_id}").set_value(confirmed).run()
    seen.see("analyst archive", app)

    # The provider (the hostile user itself): its list, each work page on each diagnosis, a bad address and a
    # bad upload.
    seen.see("provider enterprises", open_page(provider, "enterprises"))
    seen.see("provider account", open_page(provider, "account"))
    for page in ("interview", "results", "files"):
        for diagnosis in (w.diagnosis_1, returned, confirmed):
            seen.see(f"provider {page} {diagnosis}", open_page(provider, page, assessment=str(diagnosis)))
    seen.see("provider bad address", open_page(provider, "interview", assessment=lure("ZQ40")))
    app = open_page(provider, "files", assessment=str(w.diagnosis_1))
    app.file_uploader[0].set_value([(BAD_FILE_NAME, b"not a workbook", work.XLSX)]).run()
    seen.see("provider bad upload", click(app, "导入"))

    # The enterprise: its list, the work pages on its self-assessment and diagnoses (one of them approved, with
    # the progress of its projects).
    services.move(w.admin, confirmed, "approve",
                  expected_version=services.get_assessment(w.admin, confirmed).assessment.version)
    seen.see("enterprise assessments", open_page(w.enterprise_1, "assessments"))
    for page in ("interview", "results", "files"):
        for assessment in (w.self_1, returned, confirmed):
            seen.see(f"enterprise {page} {assessment}", open_page(w.enterprise_1, page, assessment=str(assessment)))

    # Last, as it resets the hostile user's password: the users page, the reset asked about and done, and a
    # refusal that quotes the input (the user name is taken).
    app = open_page(w.admin, "users")
    app.selectbox(key="users_switch_choice").set_value(provider.user_id).run()
    app.button(key="users_reset").click().run()
    seen.see("admin users, asked", app)
    app.button(key="users_reset__yes").click().run()
    seen.see("admin users, reset", app)
    app.text_input(key="users_new_username").input(USERNAME)
    app.text_input(key="users_new_display_name").input("x")
    app.selectbox(key="users_new_role").set_value("bureau_admin")
    app.text_input(key="users_new_password").input(PASSWORD)
    app.text_input(key="users_new_again").input(PASSWORD)
    app.button(key="users_create").click().run()
    seen.see("admin users, refused", app)

    # Every payload reached a page (else the checks below prove nothing), those shown in text in Markdown.
    assert {tag for tag in EVERYWHERE if tag not in seen.anywhere} == set()
    in_markdown = " ".join(text for texts in seen.markdown.values() for text in texts)
    assert {tag for tag in IN_MARKDOWN if tag not in in_markdown} == set()
    # The refusals that quote input quote it: the user name taken, the upload's name (its line and its error).
    assert any("zq05" in text for text in seen.markdown["admin users, refused"])
    assert len([text for text in seen.markdown["provider bad upload"] if "ZQ41" in text]) == 2
    # Nowhere does a payload draw anything; everywhere it reads as typed.
    drawn = [f"{where}: {text[:90]!r} draws {drawn_markup(text)}" for where, texts in seen.markdown.items()
             for text in texts if drawn_markup(text)]
    assert drawn == [], "\n".join(drawn)
    assert {where: names for where, names in seen.charts.items() if names} == {}
    for tag, typed in TYPED.items():
        shown = [shown_as(text) for texts in seen.markdown.values() for text in texts if tag in text]
        assert any(" ".join(typed.split()) in text for text in shown), (tag, shown)
