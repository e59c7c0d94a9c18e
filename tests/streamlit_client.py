"""A browser-less Streamlit client: one browser tab, speaking the app's own websocket protocol.

The browser and a Streamlit server exchange protobufs over ``ws://HOST/_stcore/stream``: the browser sends
``BackMsg``s (``rerun_script`` with the page, the query string and the widget values), the server answers with
``ForwardMsg``s (``new_session`` when a run starts, ``delta``s carrying the elements, ``script_finished``). This
client does the same, reduced to what the load and fault tests and ``bench/load.py`` need:

    client = StreamlitClient(server.url, cookies={"assessment_session": token})
    run = client.open("interview", {"assessment": 7, "sd": "OS"})   # a page load
    run = client.choose("wk7.a.OS.1.1", "全部满足")                   # a click on a radio option
    run.ok, run.errors, client.shown("wk7.a.OS.1.1")

Like the browser, a widget change inside an ``st.fragment`` reruns only that fragment, and each rerun carries the
values of the widgets this tab has set (widgets it never touched keep their value on the server). Widget ids end
with the user's ``key``, which is how widgets are found here. The client waits for each run to finish before
the next, as a person clicking would; every wait has a timeout that names what it was waiting for.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlencode

from google.protobuf.message import Message
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

STREAM = "/_stcore/stream"
_USER_KEY = re.compile(r"^\$\$ID-[0-9a-f]+-(?P<key>.+)$")  # Streamlit's id of a widget that has a user key
_FINISHED = ForwardMsg.ScriptFinishedStatus
_FINAL = {_FINISHED.FINISHED_SUCCESSFULLY, _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
          _FINISHED.FINISHED_WITH_COMPILE_ERROR}  # FINISHED_EARLY_FOR_RERUN is followed by another run


class ProtocolError(RuntimeError):
    """The server did not answer as a Streamlit server does (or not in time, or it closed the connection)."""


@dataclass
class Widget:
    """A widget as the last run that drew it sent it."""

    id: str
    kind: str  # the element type: "radio", "selectbox", "text_area", …
    proto: Message
    fragment_id: str  # the fragment that drew it; "" outside fragments

    @property
    def key(self) -> str | None:
        match = _USER_KEY.match(self.id)
        return match.group("key") if match else None


@dataclass
class Run:
    """What one script run sent back: the elements it drew, in order, and how it finished."""

    status: int = -1
    elements: list[tuple[str, Message]] = field(default_factory=list)
    widgets: dict[str, Widget] = field(default_factory=dict)  # by widget id

    @property
    def fragment(self) -> bool:
        return self.status == _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY

    @property
    def exceptions(self) -> list[str]:
        """Uncaught exceptions the page showed (the traceback element), as "Type: message"."""
        return [f"{proto.type}: {proto.message}" for kind, proto in self.elements if kind == "exception"]

    def alerts(self, level: int) -> list[str]:
        return [proto.body for kind, proto in self.elements if kind == "alert" and proto.format == level]

    @property
    def errors(self) -> list[str]:
        """Everything shown as a failure: exception elements and ``st.error`` messages."""
        return self.exceptions + self.alerts(Alert.ERROR)

    @property
    def ok(self) -> bool:
        """The run finished normally and showed no failure: what a user takes as "done"."""
        return self.status in _FINAL and self.status != _FINISHED.FINISHED_WITH_COMPILE_ERROR and not self.errors


class StreamlitClient:
    """One tab of the app at ``base_url`` (``http://127.0.0.1:PORT``), with the given cookies."""

    def __init__(self, base_url: str, *, cookies: dict[str, str] | None = None, timeout: float = 60):
        self.timeout = timeout
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())} if cookies else {}
        url = base_url.replace("http://", "ws://", 1).rstrip("/") + STREAM
        self._closing = ExitStack()  # websockets wants its connection entered as a context manager
        try:  # the first entry of the subprotocol header is the protocol the browser asks for
            self.socket: ClientConnection = self._closing.enter_context(connect(
                url, subprotocols=["streamlit"], additional_headers=headers, open_timeout=timeout, max_size=None))
        except (OSError, TimeoutError) as error:
            raise ProtocolError(f"cannot connect to {url}: {error}") from error
        self.widgets: dict[str, Widget] = {}  # by id, as last drawn
        self.values: dict[str, WidgetState] = {}  # what this tab has set, by widget id
        self._shown: dict[str, str | None] = {}  # a radio's selected option as the browser shows it, by id
        self.page_script_hash = ""
        self.query_string = ""

    # -- what the user does --------------------------------------------------------------------------------------

    def open(self, page: str, query: dict | None = None) -> Run:
        """Load ``page`` (its url path, "" for the default page) with the query parameters, as the address bar
        does."""
        self.query_string = urlencode(query or {})
        self.page_script_hash = ""
        self.values.clear()
        return self._rerun(page_name=page)

    def rerun(self) -> Run:
        """Run the current page again (what a sidebar link to the same page does)."""
        return self._rerun()

    def choose(self, key: str, option: str) -> Run:
        """Pick ``option`` (its label as shown) in the radio with the user key ``key``."""
        widget = self.widget(key)
        if option not in widget.proto.options:
            raise ValueError(f"{key}: {option!r} is not one of {list(widget.proto.options)}")
        self.values[widget.id] = WidgetState(id=widget.id, string_value=option)
        self._shown[widget.id] = option
        return self._rerun(fragment_id=widget.fragment_id)

    def close(self) -> None:
        self._closing.close()

    def __enter__(self) -> StreamlitClient:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- what the page shows ---------------------------------------------------------------------------------------

    def widget(self, key: str) -> Widget:
        for widget in self.widgets.values():
            if widget.key == key:
                return widget
        raise KeyError(f"no widget with key {key!r} on the page (keys: {sorted(filter(None, self.keys()))})")

    def keys(self) -> list[str | None]:
        return [widget.key for widget in self.widgets.values()]

    def shown(self, key: str) -> str | None:
        """The option a radio shows as selected (None: nothing selected)."""
        return self._shown.get(self.widget(key).id)

    # -- the protocol ----------------------------------------------------------------------------------------------

    def _rerun(self, page_name: str = "", fragment_id: str = "") -> Run:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        state.widget_states.widgets.extend(value for wid, value in self.values.items() if wid in self.widgets)
        try:
            self.socket.send(message.SerializeToString())
        except ConnectionClosed as error:
            raise ProtocolError(f"the server closed the connection: {error}") from error
        return self._read_run()

    def _read_run(self) -> Run:
        run = Run()
        while True:
            try:
                raw = self.socket.recv(timeout=self.timeout)
            except TimeoutError:
                raise ProtocolError(f"no script_finished within {self.timeout} s") from None
            except ConnectionClosed as error:
                raise ProtocolError(f"the server closed the connection: {error}") from error
            if isinstance(raw, str):
                raise ProtocolError(f"a text frame where Streamlit sends protobufs: {raw[:80]!r}")
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "new_session":  # a run starts: what an earlier, interrupted run drew is replaced
                run = Run()
                self.page_script_hash = message.new_session.page_script_hash or self.page_script_hash
            elif kind == "page_info_changed":  # st.query_params changed the address
                self.query_string = message.page_info_changed.query_string
            elif kind == "delta":
                self._take_delta(run, message)
            elif kind == "ref_hash":  # sent only for hashes a client says it has cached; this one never does
                raise ProtocolError("a cached-message reference although no cache was announced")
            elif kind == "script_finished":
                run.status = message.script_finished
                if run.status in _FINAL:
                    if run.fragment:
                        self.widgets.update(run.widgets)
                    else:
                        self.widgets = dict(run.widgets)
                    return run

    def _take_delta(self, run: Run, message: ForwardMsg) -> None:
        delta = message.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        run.elements.append((kind, proto))
        widget_id = getattr(proto, "id", "")
        if not widget_id or not isinstance(widget_id, str):
            return
        run.widgets[widget_id] = Widget(widget_id, kind, proto, delta.fragment_id)
        if kind == "radio":  # what the browser shows: a value the script set, else the default, else unchanged
            if proto.set_value:
                self._shown[widget_id] = proto.raw_value or None
                self.values.pop(widget_id, None)  # the script's value replaces what this tab had set
            elif widget_id not in self._shown:
                self._shown[widget_id] = proto.options[proto.default] if proto.HasField("default") else None
