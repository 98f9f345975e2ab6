"""A safe YAML 1.2 loader whose mappings and sequences remember their line numbers.

Flows are read as Kestra reads them: YAML 1.2, core schema, whatever `%YAML`
directive a document carries. Only true/false are booleans; `yes`, `no`, `on`,
`off`, `10:30` and `2042-07-01` stay the text written.

Validation uses the lines to name where a problem is; `to_plain` strips them (and
turns explicitly tagged dates into ISO strings) before anything is stored.
"""

import datetime
import math
import re

from ruamel.yaml import YAML
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import BaseResolver

from flows import text

# A flow is small; more nodes than this means aliases expanding out of control
# ("billion laughs"), which would otherwise be walked and stored in full.
MAX_NODES = 100_000
MAX_DEPTH = 100

MERGE_TAG = "tag:yaml.org,2002:merge"


class InvalidYAML(ValueError):
    """The text is not YAML this loader accepts; `line` is 1-based or None."""

    def __init__(self, problem: str, line: int | None = None):
        super().__init__(problem)
        self.problem = problem
        self.line = line


class LineDict(dict):
    """A mapping with `line` (1-based), `key_lines` and the `duplicates` seen."""

    line: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict = {}
        self.duplicates: list[tuple[object, int, int]] = []

    def line_of(self, key) -> int | None:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence with `line` (1-based) and the line of each item."""

    line: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int | None:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class CoreResolver(BaseResolver):
    """The YAML 1.2 core schema (spec 10.3.2), and `<<` merge keys."""

    def __init__(self, version=None, loader=None):
        super().__init__(loader)
        self._loader_version = version

    @property
    def processing_version(self):
        return (1, 2)  # also read by SafeConstructor's int and float constructors


_CORE_SCHEMA = [
    ("null", r"null|Null|NULL|~|", ["~", "n", "N", ""]),
    ("bool", r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    (
        "float",
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
        r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
        list("-+0123456789."),
    ),
    ("merge", r"<<", ["<"]),
]
for _name, _pattern, _first in _CORE_SCHEMA:
    CoreResolver.add_implicit_resolver_base(
        f"tag:yaml.org,2002:{_name}", re.compile(rf"^(?:{_pattern})$"), _first
    )


class LineConstructor(SafeConstructor):
    """Builds LineDict / LineList; duplicate keys are recorded, not raised."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # mapping node -> (its pairs with merges resolved, its own duplicate keys)
        self.merged_pairs: dict = {}
        self.merging: set = set()

    def construct_yaml_map(self, node):
        data = LineDict()
        data.line = node.start_mark.line + 1
        yield data
        pairs, data.duplicates = self.pairs(node)
        for key, (key_node, value_node) in pairs.items():
            data[key] = self.construct_object(value_node)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node):
        data = LineList()
        data.line = node.start_mark.line + 1
        yield data
        data.extend(self.construct_object(child) for child in node.value)
        data.item_lines = [child.start_mark.line + 1 for child in node.value]

    def construct_yaml_str(self, node):
        value = self.construct_scalar(node)
        problem = text.problem(value)  # NUL (PostgreSQL), "\ud800" (no UTF-8 form)
        if problem:
            raise ConstructorError(None, None, problem.rstrip("."), node.start_mark)
        return value

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # Python reads at most 4,300 digits
            raise ConstructorError(
                None,
                None,
                f"the integer is too long ({len(node.value)} characters)",
                node.start_mark,
            ) from None

    def construct_yaml_timestamp(self, node, values=None):
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError as exc:
            raise ConstructorError(
                None, None, f"invalid date '{node.value}' ({exc})", node.start_mark
            ) from exc

    def pairs(self, node) -> tuple[dict, list]:
        """{key: (key node, value node)} with `<<` merged in, and own duplicates.

        Memoised per node and deduplicated by key, so a "merge bomb" (each level
        merging the one below many times) stays as small as its distinct keys.
        """
        if node in self.merged_pairs:
            return self.merged_pairs[node]
        if node in self.merging:
            raise ConstructorError(
                None,
                None,
                "a mapping merges itself (a recursive alias)",
                node.start_mark,
            )
        self.merging.add(node)
        merged, own, duplicates = {}, {}, []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in self.merge_sources(node, value_node):
                    for key, pair in self.pairs(source)[0].items():
                        merged.setdefault(key, pair)  # the first source wins
                continue
            key = self.key(node, key_node)
            if key in own:
                first_key_node = own[key][0]
                duplicates.append(
                    (
                        key,
                        first_key_node.start_mark.line + 1,
                        key_node.start_mark.line + 1,
                    )
                )
                own[key] = (first_key_node, value_node)  # the last value wins
            else:
                own[key] = (key_node, value_node)
        self.merging.discard(node)
        self.merged_pairs[node] = ({**merged, **own}, duplicates)
        return self.merged_pairs[node]

    def merge_sources(self, node, value_node) -> list:
        sources = value_node.value if value_node.id == "sequence" else [value_node]
        for source in sources:
            if source.id != "mapping":
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"expected a mapping or list of mappings for merging, "
                    f"but found {source.id}",
                    source.start_mark,
                )
        return sources

    def key(self, node, key_node):
        key = self.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found unhashable key",
                key_node.start_mark,
            ) from None
        return key


LineConstructor.add_constructor(
    "tag:yaml.org,2002:map", LineConstructor.construct_yaml_map
)
LineConstructor.add_constructor(
    "tag:yaml.org,2002:seq", LineConstructor.construct_yaml_seq
)
LineConstructor.add_constructor(
    "tag:yaml.org,2002:str", LineConstructor.construct_yaml_str
)
LineConstructor.add_constructor(
    "tag:yaml.org,2002:int", LineConstructor.construct_yaml_int
)
LineConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", LineConstructor.construct_yaml_timestamp
)


def _parser() -> YAML:
    # A fresh parser per document: ruamel's YAML object is not thread-safe.
    parser = YAML(typ="safe", pure=True)
    parser.Resolver = CoreResolver
    parser.Constructor = LineConstructor
    # The composer counts the root as 1 and check_size as 0: the same limit.
    parser.max_depth = MAX_DEPTH + 1
    parser.composer.warn_double_anchors = False  # reusing an anchor is legal YAML
    return parser


def load(source: str):
    """Parse one YAML document into LineDicts; raises InvalidYAML with its line."""
    try:
        return _parser().load(source)
    except MaxDepthExceededError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise InvalidYAML(too_deep(), line) from None
    except MarkedYAMLError as exc:
        raise _marked_error(exc) from None
    except ReaderError as exc:
        line = source.count("\n", 0, exc.position) + 1
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else ""
        problem = f"unacceptable character {character}: {exc.reason}"
        raise InvalidYAML(problem, line) from None
    except YAMLError as exc:
        raise InvalidYAML(str(exc)) from None
    except RecursionError:
        raise InvalidYAML(too_deep()) from None


def load_plain(source: str):
    """Parse a user's YAML value into plain dicts and lists, checked for size.

    Duplicate keys are refused: a form cannot point at the line to fix.
    """
    data = load(source)
    too_big = check_size(data)
    if too_big:
        raise InvalidYAML(too_big)
    duplicate = _first_duplicate(data)
    if duplicate:
        key, first, again = duplicate
        raise InvalidYAML(f"duplicate key '{key}' (lines {first} and {again})", again)
    return _plain_containers(data)


def too_deep() -> str:
    return f"the document is nested more than {MAX_DEPTH} levels deep"


def _marked_error(exc: MarkedYAMLError) -> InvalidYAML:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "not valid YAML"
    if exc.problem and exc.context:
        problem += f" ({exc.context})"
    return InvalidYAML(problem, mark.line + 1 if mark else None)


def _first_duplicate(value):
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, LineDict) and value.duplicates:
            return value.duplicates[0]
        if isinstance(value, dict | list):
            stack.extend(value.values() if isinstance(value, dict) else value)
    return None


def _plain_containers(value):
    # Only after check_size: copying expands aliases, bounded by MAX_NODES.
    if isinstance(value, dict):
        return {k: _plain_containers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_containers(v) for v in value]
    return value


def check_size(data) -> str | None:
    """Return a sentence if `data` is cyclic, too deep or too big once expanded."""
    count = 0
    stack = [(data, 0, ())]
    while stack:
        value, depth, ancestors = stack.pop()
        count += 1
        if count > MAX_NODES:
            return f"the document expands to more than {MAX_NODES} values"
        if depth > MAX_DEPTH:
            return too_deep()
        if isinstance(value, dict | list):
            if id(value) in ancestors:
                return "the document contains itself (a recursive alias)"
            children = value.values() if isinstance(value, dict) else value
            inner = (*ancestors, id(value))
            stack.extend((child, depth + 1, inner) for child in children)
    return None


def plain_key(key) -> str:
    """A mapping key as JSON would write it."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)


def to_plain(value, *, keep_dates: bool = False):
    """Plain dicts, lists and JSON scalars: no line metadata, dates as ISO text."""
    if isinstance(value, dict):
        return {
            plain_key(k): to_plain(v, keep_dates=keep_dates) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [to_plain(v, keep_dates=keep_dates) for v in value]
    if isinstance(value, set):
        return [to_plain(v, keep_dates=keep_dates) for v in sorted(value, key=str)]
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime.date):  # datetime is a date too
        return value if keep_dates else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
