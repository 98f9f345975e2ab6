"""What the absent / empty / default tests share: one case per input type, flows
built from a case, and what a browser sends for a rendered form."""

import json
from html.parser import HTMLParser
from typing import NamedTuple

import pytest

REFUSED = "This field is required."


class Case(NamedTuple):
    kind: str
    props: dict
    default: object  # as a flow author writes it
    stored: object  # the default as stored
    blank: object  # what an optional input sent "" stores
    cleared: list  # what a browser sends for the field once the person cleared it
    cleared_optional: object  # stored for that, optional input with a default
    cleared_required: object  # stored (or REFUSED) for that, required input


# fmt: off
CASES = [
    Case("STRING", {}, "Well-deserved vacation", "Well-deserved vacation", "",
         [""], "", REFUSED),
    Case("INT", {}, 5, 5, None, [""], None, REFUSED),
    Case("FLOAT", {}, 2.5, 2.5, None, [""], None, REFUSED),
    # An unchecked checkbox sends nothing: that is `false`, never "empty".
    Case("BOOLEAN", {}, True, True, None, [], False, False),
    Case("DATE", {}, "2042-07-01", "2042-07-01", None, [""], None, REFUSED),
    Case("DATETIME", {}, "2042-07-01T10:00:00Z", "2042-07-01T10:00:00+00:00", None,
         [""], None, REFUSED),
    Case("TIME", {}, "10:30", "10:30:00", None, [""], None, REFUSED),
    Case("DURATION", {}, "PT90M", "PT1H30M", None, [""], None, REFUSED),
    Case("ENUM", {"values": ["A", "B"]}, "B", "B", None, [""], None, REFUSED),
    Case("MULTISELECT", {"values": ["A", "B"]}, ["B"], ["B"], None, [], [], REFUSED),
    Case("ARRAY", {}, ["x", "y"], ["x", "y"], None, [""], None, REFUSED),
    Case("JSON", {}, {"k": [1, None]}, {"k": [1, None]}, None, [""], None, REFUSED),
    Case("YAML", {}, "when: soon", {"when": "soon"}, None, [""], None, REFUSED),
    Case("URI", {}, "https://example.com/x", "https://example.com/x", None,
         [""], None, REFUSED),
    Case("EMAIL", {}, "ann@example.com", "ann@example.com", None, [""], None, REFUSED),
    # The password box is never pre-filled, so left empty it keeps the default.
    Case("SECRET", {}, "hunter2", "hunter2", "", [""], "hunter2", "hunter2"),
    # A file box cannot be pre-filled: no upload keeps the default.
    Case("FILE", {}, "storage://inputs/plan.pdf", "storage://inputs/plan.pdf", None,
         [], "storage://inputs/plan.pdf", "storage://inputs/plan.pdf"),
]
# fmt: on

EACH_TYPE = pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])


def definition(case: Case, *, required=True, with_default=True) -> dict:
    """The input `x` of this case's type, as a flow (or onResume) lists it."""
    defn = {"id": "x", "type": case.kind, **case.props, "required": required}
    return {**defn, "defaults": case.default} if with_default else defn


def start_flow(case: Case, **options) -> str:
    """A flow taking the case's input `x` (JSON is YAML, and quotes every string)."""
    flow = {
        "id": "absent",
        "namespace": "acme.empty",
        "inputs": [definition(case, **options)],
        "tasks": [{"id": "done", "type": "Return", "format": "ok"}],
    }
    return json.dumps(flow)


def on_resume(case: Case, **options) -> str:
    """Pause lines asking for the case's input `x` (for the pause_token fixture)."""
    return f"onResume: {json.dumps([definition(case, **options)])}"


def as_submitted(html: str, field: str) -> dict[str, list[str]]:
    """What a browser sends for the form holding `field` when nothing is changed
    and its unnamed submit button is pressed (no file is chosen)."""
    parser = _Forms()
    parser.feed(html)
    for sent in parser.forms:
        names = {name for name, _ in sent} | parser.controls[id(sent)]
        if field in names:
            data: dict[str, list[str]] = {}
            for name, value in sent:
                data.setdefault(name, []).append(value)
            return data
    raise AssertionError(f"no form with a field {field!r}")


class _Forms(HTMLParser):
    """The name/value pairs each <form> would submit, as a browser builds them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.controls: dict[int, set[str]] = {}  # every control's name, even unsent
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
            self.forms.append(self._form)
            self.controls[id(self._form)] = set()
        if self._form is None or "disabled" in a:
            return
        if a.get("name"):
            self.controls[id(self._form)].add(a["name"])
        if tag == "input":
            self._input(a)
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]
        elif tag == "select":
            self._select = [a.get("name"), "multiple" in a, []]
        elif tag == "option" and self._select is not None:
            self._select[2].append((a.get("value", ""), "selected" in a))

    def _input(self, a):
        kind = (a.get("type") or "text").lower()
        if not a.get("name") or kind in {"submit", "button", "reset", "image", "file"}:
            return
        if kind in {"checkbox", "radio"}:
            if "checked" in a:
                self._form.append((a["name"], a.get("value") or "on"))
            return
        self._form.append((a["name"], a.get("value") or ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # HTML drops the newline right after <textarea>, as Django writes it.
            self._form.append((name, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not multiple and not chosen and options:
                chosen = [options[0][0]]  # a single select sends its first option
            self._form.extend((name, value) for value in chosen)
            self._select = None
