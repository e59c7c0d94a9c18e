"""Security of a real `streamlit run app.py` server (one server for this file, logging at DEBUG).

- XSRF protection is on in .streamlit/config.toml, and the server refuses an upload PUT that lacks the token
  (while the same request with the token gets past that check).
- The upload caps agree: the server's maxUploadSize, the uploader widget's cap and the importer's cap; an oversize
  file is refused with a clear message and imports nothing.
- A browser sets the tool up, fails to sign in, signs in and out: the server's whole log then holds no password,
  no argon2 hash, no sign-in token and no token hash.
"""

from __future__ import annotations

import hashlib
import tomllib
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from assessment import PROJECT_ROOT
from assessment.db import Store
from assessment.models import User
from reports import template
from tests.conftest import PASSWORD
from tests.streamlit_server import SETUP_TOKEN, StreamlitServer
from tests.test_browser import fill, ready
from ui import work

CONFIG = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory):
    """The app on a fresh SQLite database, Streamlit logging at DEBUG into a file."""
    folder = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{folder / 'app.db'}"
    with pytest.MonkeyPatch.context() as patch:  # the server copies the environment when it starts
        patch.setenv("STREAMLIT_LOGGER_LEVEL", "debug")
        server = StreamlitServer(url, folder / "streamlit.log")
    store = Store(url)
    yield server, store, folder / "streamlit.log"
    server.stop()
    store.dispose()


def put(server: StreamlitServer, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"{server.url}{path}", data=body, method="PUT", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback test server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def xsrf_cookie(server: StreamlitServer) -> str:
    """The XSRF cookie the server hands a browser (with its health check, as the page asks for it)."""
    with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=30) as response:  # noqa: S310 - loopback
        cookies = response.headers.get_all("Set-Cookie") or []
    values = [c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")]
    assert values, cookies
    return values[0]


def test_xsrf_protection_is_on_and_refuses_an_upload_without_the_token(debug_server):
    server, _, _ = debug_server
    assert CONFIG["server"]["enableXsrfProtection"] is True
    path = "/_stcore/upload_file/no-such-session/file-1"
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    body = b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\nPK\r\n--x--\r\n"
    assert put(server, path, body, form) == 403
    assert put(server, path, body, {**form, "X-Xsrftoken": "forged"}) == 403
    token = xsrf_cookie(server)
    # With the token, the request passes the XSRF check and is refused for the next reason (no such session).
    assert put(server, path, body, {**form, "X-Xsrftoken": token, "Cookie": f"_streamlit_xsrf={token}"}) == 400


def test_the_upload_caps_agree_and_an_oversize_file_is_refused_clearly():
    assert CONFIG["server"]["maxUploadSize"] * MIB == template.MAX_UPLOAD_BYTES
    assert work.UPLOAD_MB == CONFIG["server"]["maxUploadSize"]
    source = (PROJECT_ROOT / "ui" / "pages" / "files.py").read_text(encoding="utf-8")
    assert "max_upload_size=work.UPLOAD_MB" in source
    oversize = b"PK" + b"\0" * template.MAX_UPLOAD_BYTES
    with pytest.raises(template.TemplateError) as caught:
        template.read_template(oversize, "huge.xlsx")
    assert caught.value.messages == [f"huge.xlsx: the file is {len(oversize):,} bytes; uploads are limited to 10 MiB"]


@pytest.mark.browser
def test_no_secret_reaches_the_server_log(page: Page, debug_server):
    server, store, log = debug_server
    page.goto(server.url)
    ready(page)
    fill(page, "设置令牌", SETUP_TOKEN)
    fill(page, "管理员用户名", "chief")
    fill(page, "密码（至少10位，含字母和数字）", PASSWORD)
    fill(page, "再次输入密码", PASSWORD)
    page.get_by_role("button", name="完成设置").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
    for wrong in ("wrong " + PASSWORD, PASSWORD + "x"):
        fill(page, "用户名", "chief")
        fill(page, "密码", wrong)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_text("用户名或密码错误，或账户因多次登录失败已暂时锁定。")).to_be_visible(timeout=30_000)
    fill(page, "用户名", "chief")
    fill(page, "密码", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    page.wait_for_function("document.cookie.includes('assessment_session=')", timeout=30_000)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "assessment_session")
    page.reload()  # the token resumes the sign-in
    ready(page)
    expect(page.get_by_role("heading", name="统计总览")).to_be_visible(timeout=30_000)
    page.goto(f"{server.url}/account")
    ready(page)
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
    with store.read() as db:
        stored = db.scalar(select(User.password_hash).where(User.username == "chief"))
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "AppSession initialized" in text, "the server logs at DEBUG"
    secrets = {"password": PASSWORD, "wrong password": "wrong " + PASSWORD, "hash": stored, "token": token,
               "set-up token": SETUP_TOKEN,
               "token hash": hashlib.sha256(token.encode()).hexdigest()}
    assert [name for name, secret in secrets.items() if secret in text] == []
    assert "$argon2" not in text
