"""flows.loader.parse_flow fed random YAML: a flow comes back storable, or every
problem names the file (and its line when it has one); never a traceback."""

import io
import json
import os
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from flows import loader
from flows.tasks import TASK_TYPES

FUZZ = settings(
    # A longer hunt: SIGNOFF_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_loader.py
    max_examples=int(os.environ.get("SIGNOFF_FUZZ_EXAMPLES", 150)),
    deadline=timedelta(seconds=2),
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLES = sorted((Path(loader.__file__).parent / "examples").glob("*.yaml"))
SOURCES = [path.read_text() for path in EXAMPLES]

# Bits of YAML that have broken parsers: escapes, anchors, tags, directives.
SNIPPETS = [
    "\x00",
    "\\0",
    '"\\ud800"',
    '"\\udc00x": 1',
    "\ufeff",
    "\t",
    "9" * 5000,
    "1e999",
    ".nan",
    "0x" + "f" * 5000,
    "&a [*a]",
    "*missing",
    "<<: *a",
    "<<: [1]",
    "!!python/object:os.system",
    "!!binary aGVsbG8=",
    "!!timestamp 2024-13-45",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "? [a]\n: b",
    "%YAML 1.1\n---\n",
    "---\n",
    "...\n",
    "{{ inputs.x }}",
    "{% for x in y %}",
    "{{ ''.__class__ }}",
    "{{" * 200,
    "[" * 300,
    "- " * 300,
    "P99999999999999999999D",
    "PT-1S",
    "yes",
    "~",
    "type: Pause",
    "type: io.kestra.plugin.scripts.shell.Commands",
    "onResume:\n  - id: x\n    type: ENUM",
    "  - id: dup\n    type: Return\n  - id: dup\n    type: Return",
]
TEXT = st.text(max_size=30) | st.sampled_from(SNIPPETS)


@st.composite
def mutated(draw) -> str:
    """An example flow with a few random edits (inserts, deletes, swapped lines)."""
    source = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(source)))
        edit = draw(st.sampled_from(["insert", "delete", "line"]))
        if edit == "insert":
            source = source[:at] + draw(TEXT) + source[at:]
        elif edit == "delete":
            source = source[:at] + source[at + draw(st.integers(1, 40)) :]
        else:
            lines = source.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            lines[index] = draw(TEXT) + "\n"
            source = "".join(lines)
    return source


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.sampled_from(["PT5M", "P1D", "RESUME", "CANCEL", "approval", "ALWAYS"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3)
    ),
    max_leaves=12,
)


@st.composite
def tasks(draw, depth: int = 0) -> list:
    found = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(TASK_TYPES)) | TEXT)
        task = {
            "id": draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True) | TEXT)
        }
        task["type"] = name
        task_type = TASK_TYPES.get(name)
        properties = sorted(task_type.properties) if task_type else []
        keys = (st.sampled_from(properties) | TEXT) if properties else TEXT
        for key in draw(st.lists(keys, max_size=4)):
            kind = task_type.properties[key].kind if key in properties else None
            if kind == "tasks" and depth < 2:
                task[key] = draw(tasks(depth + 1))
            else:
                task[key] = draw(VALUES)
        found.append(task)
    return found


@st.composite
def documents(draw) -> str:
    """A random flow-shaped document, written as YAML or as JSON (YAML 1.2)."""
    document = {"id": draw(TEXT | st.just("flow")), "namespace": "acme.fuzz"}
    document["tasks"] = draw(tasks())
    for key in draw(st.lists(st.sampled_from(["inputs", "labels", "errors"]) | TEXT)):
        document[key] = draw(VALUES)
    if draw(st.booleans()):
        return json.dumps(document)
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, out)
    return out.getvalue()


def loads_or_names_the_place(source: str) -> None:
    try:
        definition = loader.parse_flow(source, "flow.yaml")
    except loader.FlowDefinitionError as exc:
        assert exc.problems
        last_line = source.count("\n") + 2
        for problem in exc.problems:
            assert problem.filename == "flow.yaml"
            assert problem.line is None or 1 <= problem.line <= last_line, problem
            message = str(problem)
            assert message.startswith("flow.yaml")
            message.encode("utf-8")  # printed by loadflows, shown in the admin
    else:
        loader.checksum_of(definition)  # encodes it as UTF-8 JSON
        json.dumps(definition, allow_nan=False)


@FUZZ
@given(source=mutated())
def test_mutated_example_flows_load_or_name_the_line(source):
    loads_or_names_the_place(source)


@FUZZ
@given(source=documents())
def test_random_flow_documents_load_or_name_the_line(source):
    loads_or_names_the_place(source)


@FUZZ
@given(source=st.text(max_size=200) | st.binary(max_size=200).map(repr))
def test_any_text_loads_or_names_the_line(source):
    loads_or_names_the_place(source)
