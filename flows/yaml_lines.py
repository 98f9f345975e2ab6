"""A safe YAML loader whose mappings and sequences remember their line numbers.

Validation uses the lines to name where a problem is; `to_plain` strips them (and
turns dates into ISO strings) before anything is stored.
"""

import datetime
import math

import yaml
from yaml.constructor import ConstructorError

# A flow is small; more nodes than this means aliases expanding out of control
# ("billion laughs"), which would otherwise be walked and stored in full.
MAX_NODES = 100_000
MAX_DEPTH = 100


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


class LineLoader(yaml.SafeLoader):
    """SafeLoader building LineDict / LineList; bad dates are marked errors."""


def _construct_map(loader, node):
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    own_keys = [k for k, _v in node.value if k.tag != "tag:yaml.org,2002:merge"]
    data.update(loader.construct_mapping(node))  # flattens `<<` merge keys first
    merged_keys = [k for k, _v in node.value]
    for number, key_node in enumerate(own_keys + merged_keys):
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        try:
            if key not in data.key_lines:
                data.key_lines[key] = line
            elif number < len(own_keys):
                data.duplicates.append((key, data.key_lines[key], line))
        except TypeError:  # unhashable key: construct_mapping has already refused it
            pass


def _construct_seq(loader, node):
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))
    data.item_lines = [item.start_mark.line + 1 for item in node.value]


def _construct_timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise ConstructorError(
            None, None, f"invalid date '{node.value}' ({exc})", node.start_mark
        ) from exc


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load(source: str):
    """Parse one YAML document; raises yaml.YAMLError (marked where possible)."""
    return yaml.load(source, Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass


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
            return f"the document is nested more than {MAX_DEPTH} levels deep"
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
