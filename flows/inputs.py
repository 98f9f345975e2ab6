"""Input definitions, shared by flow ``inputs`` and a Pause's ``onResume``.

Definitions are Kestra-style maps (``id``, ``type``, ``defaults``, ...), checked
once at load time by ``parse_definitions``. Submitted values are converted and
checked by ``validate``, which returns a nested dict of JSON-safe values: a
dotted id (``request.name``) nests, so downstream sees ``inputs.request.name``.
Per-type conversion rules live in ``flows.input_types``.

Absent, empty and default (the same for flow inputs and onResume answers, on
every channel: web form, API, CLI; a timeout answers with ``defaults()``):

- A key that is **absent** takes the input's default; with no default it is
  refused when required, else stored as null.
- A key that is **present but empty** (null, ``""``, or ``[]`` for MULTISELECT)
  never takes the default: it is refused when required (even with a default),
  else stored empty: ``""`` kept as sent for STRING and SECRET, ``[]`` for
  MULTISELECT, null for every other type (and for a null of any type).
- What a web form sends (``from_web_form``): a field whose key was posted is
  present, so a default shown pre-filled and left as is is the person's answer,
  and a cleared field is empty. A BOOLEAN checkbox always says true or false; a
  MULTISELECT with nothing ticked is ``[]``. SECRET and FILE widgets cannot show
  a default (a password box must not leak it, a file box cannot be pre-filled),
  so left empty they count as absent and the default, if any, applies.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows import input_types

TYPES: frozenset[str] = frozenset(input_types.CONVERTERS)
ALIASES = {"BOOL": "BOOLEAN", "SELECT": "ENUM"}

_ID_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*(\.[a-zA-Z_][a-zA-Z0-9_-]*)*")
_KEYS = {"id", "type", "description", "defaults", "required", "values", "min", "max"}
_KEYS |= {"validator", "displayName", "itemType", "after", "before", "name"}
# Kestra properties that are harmless to ignore here.
_IGNORED = {"dependsOn", "autoSelectFirst", "allowCustomValue", "expression"}
_IGNORED |= {"prefill"}
_CHOICE_TYPES = {"ENUM", "MULTISELECT"}
_ITEM_TYPES = TYPES - {"ARRAY", "MULTISELECT", "ENUM", "FILE"}
REQUIRED_MESSAGE = "This field is required."
# Widgets that never show the default: left empty, they count as absent.
UNSHOWN_DEFAULT = frozenset({"SECRET", "FILE"})


class InputDefinitionError(ValueError):
    """An input definition is invalid; raised when a flow is loaded."""

    def __init__(self, message: str, input_id: str | None = None):
        super().__init__(message)
        self.input_id = input_id


class InputValidationError(ValueError):
    """Submitted values are invalid; ``errors`` maps each input id to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(
            "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items())
        )


@dataclass(frozen=True)
class InputDef:
    id: str
    type: str
    description: str = ""
    required: bool = True
    default: Any = None
    has_default: bool = False
    values: tuple = ()
    min: Any = None
    max: Any = None
    validator: str | None = None
    display_name: str = ""
    item_type: str | None = None

    @property
    def label(self) -> str:
        if self.display_name:
            return self.display_name
        words = re.sub(r"[_-]+", " ", self.id.rsplit(".", 1)[-1]).strip()
        return words[:1].upper() + words[1:]


# -- definitions ---------------------------------------------------------------


def parse_definitions(raw: Any, *, where: str = "inputs") -> list[InputDef]:
    """Check Kestra-style input maps and return them as InputDefs."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        kind = type(raw).__name__
        raise InputDefinitionError(f"{where} must be a list of inputs, not a {kind}.")
    defs = [_parse_one(item, index, where) for index, item in enumerate(raw)]
    _check_ids(defs, where)
    return defs


def _parse_one(item: Any, index: int, where: str) -> InputDef:
    if not isinstance(item, Mapping):
        raise InputDefinitionError(
            f"{where}[{index}] must be a map with an id and a type."
        )
    input_id = item.get("id", item.get("name"))
    if not isinstance(input_id, str) or not _ID_RE.fullmatch(input_id):
        problem = "has no id" if input_id is None else f"has an invalid id {input_id!r}"
        raise InputDefinitionError(
            f"{where}[{index}] {problem}; use letters, digits, _ and -, "
            "with dots to nest (e.g. request.name).",
            None if input_id is None else str(input_id),
        )
    prefix = "input" if where == "inputs" else f"{where} input"
    fail = _failer(f"{prefix} '{input_id}'", input_id)
    unknown = sorted(set(map(str, item)) - _KEYS - _IGNORED)
    if unknown:
        hint = " (did you mean 'defaults'?)" if unknown == ["default"] else ""
        fail(f"unknown property '{unknown[0]}'{hint}; allowed: {_allowed()}")
    return _build(item, input_id, _parse_type(item.get("type"), fail), fail)


def _failer(prefix: str, input_id: str):
    def fail(problem: str):
        raise InputDefinitionError(f"{prefix}: {problem.rstrip('.')}.", input_id)

    return fail


def _allowed() -> str:
    return ", ".join(sorted(_KEYS - {"name"}))


def _parse_type(raw_type: Any, fail) -> str:
    if raw_type is None:
        fail(f"missing type; expected one of: {_type_names()}")
    name = str(raw_type).upper()
    name = ALIASES.get(name, name)
    if name not in TYPES:
        fail(f"unknown type '{raw_type}'; expected one of: {_type_names()}")
    return name


def _type_names() -> str:
    return ", ".join(sorted(TYPES | set(ALIASES)))


def _build(item: Mapping, input_id: str, type_: str, fail) -> InputDef:
    fields = {
        "id": input_id,
        "type": type_,
        "description": _text(item, "description", fail),
        "display_name": _text(item, "displayName", fail),
        "required": item.get("required", True),
        "values": _parse_values(item, type_, fail),
        "validator": _parse_validator(item, type_, fail),
        "item_type": _parse_item_type(item, type_, fail),
    }
    if not isinstance(fields["required"], bool):
        fail("required must be true or false")
    bounds = InputDef(**fields)  # min/max are converted against this
    fields["min"], fields["max"] = _parse_bounds(item, bounds, fail)
    defn = InputDef(**fields)
    if item.get("defaults") is not None:
        try:
            default = _convert(defn, item["defaults"])
        except ValueError as exc:
            fail(f"the default {item['defaults']!r} is not valid: {exc}")
        defn = InputDef(**fields, default=default, has_default=True)
    return defn


def _text(item: Mapping, key: str, fail) -> str:
    value = item.get(key) or ""
    if not isinstance(value, str):
        fail(f"{key} must be text")
    return value


def _parse_values(item: Mapping, type_: str, fail) -> tuple:
    values = item.get("values")
    if type_ not in _CHOICE_TYPES:
        if values:
            fail(f"values are only allowed on ENUM, SELECT, MULTISELECT; not {type_}")
        return ()
    if not isinstance(values, list) or not values:
        fail(f"{type_} needs a non-empty list of values")
    texts = [input_types.scalar_text(v) for v in values]
    if any(isinstance(v, Mapping | list) for v in values):
        fail("values must be plain text, not lists or maps")
    if len(set(texts)) != len(texts):
        fail("values contain duplicates")
    return tuple(texts)


def _parse_validator(item: Mapping, type_: str, fail) -> str | None:
    pattern = item.get("validator")
    if pattern is None:
        return None
    if type_ not in {"STRING", "SECRET"}:
        fail(f"validator is only allowed on STRING and SECRET, not {type_}")
    if not isinstance(pattern, str):
        fail("validator must be a regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        fail(f"validator {pattern!r} is not a valid regular expression ({exc})")
    return pattern


def _parse_item_type(item: Mapping, type_: str, fail) -> str | None:
    raw = item.get("itemType")
    if raw is None:
        return None
    if type_ != "ARRAY":
        fail(f"itemType is only allowed on ARRAY, not {type_}")
    name = ALIASES.get(str(raw).upper(), str(raw).upper())
    if name not in _ITEM_TYPES:
        fail(f"itemType '{raw}' is not one of: {', '.join(sorted(_ITEM_TYPES))}")
    return name


def _parse_bounds(item: Mapping, defn: InputDef, fail) -> tuple:
    bounds = []
    for key, alias in (("min", "after"), ("max", "before")):
        given = [k for k in (key, alias) if item.get(k) is not None]
        if not given:
            bounds.append(None)
            continue
        if defn.type not in input_types.RANGED or len(given) > 1:
            fail(_bounds_problem(defn.type, given))
        try:
            bounds.append(input_types.CONVERTERS[defn.type](item[given[0]], defn))
        except ValueError as exc:
            fail(f"{given[0]} {item[given[0]]!r} is not valid: {exc}")
    low, high = bounds
    if low is not None and high is not None:
        parse = input_types.PARSERS.get(defn.type, lambda v: v)
        if parse(low) > parse(high):
            fail(f"min {low} is greater than max {high}")
    return low, high


def _bounds_problem(type_: str, given: list[str]) -> str:
    if len(given) > 1:
        return f"give either {given[0]} or {given[1]}, not both"
    ranged = ", ".join(sorted(input_types.RANGED))
    return f"{given[0]} is only allowed on {ranged}, not {type_}"


def _check_ids(defs: list[InputDef], where: str) -> None:
    seen: set[str] = set()
    for defn in defs:
        if defn.id in seen:
            raise InputDefinitionError(
                f"{where}: the id '{defn.id}' is used twice.", defn.id
            )
        seen.add(defn.id)
    for defn in defs:
        for other in seen:
            if other.startswith(defn.id + "."):
                raise InputDefinitionError(
                    f"{where}: '{defn.id}' cannot be both an input and the group "
                    f"of '{other}'.",
                    defn.id,
                )


# -- values --------------------------------------------------------------------


def validate(
    defs: list[InputDef], data: Mapping | None, *, partial: bool = False
) -> dict:
    """Convert and check submitted values; return them nested and JSON-safe."""
    if data is not None and not isinstance(data, Mapping):
        raise InputValidationError({"__all__": ["Expected a map of input values."]})
    errors: dict[str, list[str]] = {}
    flat = _flatten_submission(data or {}, defs, errors)
    expected = ", ".join(d.id for d in defs) or "(none)"
    ids = {d.id for d in defs}
    for key in [k for k in flat if k not in ids]:
        errors[key] = [f"Unknown field; expected one of: {expected}."]
    result: dict[str, Any] = {}
    # Files last, and only stored when everything else is valid.
    for defn in sorted(defs, key=lambda d: d.type == "FILE"):
        value = flat.get(defn.id)
        if errors and input_types.is_upload(value):
            continue
        try:
            result[defn.id] = _clean(defn, defn.id in flat, value, partial)
        except ValueError as exc:
            errors[defn.id] = [str(exc)]
    if errors:
        raise InputValidationError(errors)
    return nest({d.id: result[d.id] for d in defs})


def _clean(defn: InputDef, present: bool, value: Any, partial: bool) -> Any:
    if not present and defn.has_default:
        return defn.default
    if not present or _is_empty(defn, value):
        if defn.required and not partial:
            raise ValueError(REQUIRED_MESSAGE)
        return _stored_empty(defn, value)
    return _convert(defn, value)


def _is_empty(defn: InputDef, value: Any) -> bool:
    if value is None or (isinstance(value, str) and value == ""):
        return True
    return defn.type == "MULTISELECT" and isinstance(value, list) and not value


def _stored_empty(defn: InputDef, value: Any) -> Any:
    if defn.type in ("STRING", "SECRET") and value == "":
        return ""
    if defn.type == "MULTISELECT" and value == []:
        return []
    return None


def from_web_form(defs: list[InputDef], sent: Mapping) -> dict:
    """A web form's widget values as validate() reads them (see the module doc).

    ``sent`` maps input ids to what each widget returned, None when not posted.
    """
    raw = {}
    for defn in defs:
        value = sent.get(defn.id)
        if value is None or (defn.type in UNSHOWN_DEFAULT and not value):
            continue
        raw[defn.id] = value
    return raw


def _convert(defn: InputDef, value: Any) -> Any:
    input_types.check_value(value)  # NUL, lone surrogates, nesting: every type
    json_value = input_types.CONVERTERS[defn.type](value, defn)
    if defn.type in input_types.RANGED:
        input_types.check_range(defn, json_value)
    return json_value


def _flatten_submission(data: Mapping, defs: list[InputDef], errors: dict) -> dict:
    groups = _groups(defs)
    flat = flatten(data, groups=groups)
    for key in [k for k in flat if k in groups]:
        members = ", ".join(d.id for d in defs if d.id.startswith(key + "."))
        errors[key] = [f"Expected a map with {members}."]
        del flat[key]
    return flat


def _groups(defs: list[InputDef]) -> set[str]:
    parts = (d.id.split(".") for d in defs)
    return {".".join(p[:i]) for p in parts for i in range(1, len(p))}


def defaults(defs: list[InputDef]) -> dict:
    """Every input's default (or None), nested: what a RESUME-on-timeout gets."""
    return nest({d.id: d.default if d.has_default else None for d in defs})


def to_python(defn: InputDef, json_value: Any) -> Any:
    """Turn a stored JSON value back into Python (date, datetime, timedelta...)."""
    if json_value is None:
        return None
    parse = input_types.PARSERS.get(defn.type)
    return parse(json_value) if parse else json_value


def nest(flat: Mapping[str, Any]) -> dict:
    """{"a.b": 1} -> {"a": {"b": 1}}."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"'{key}' conflicts with the value of '{part}'.")
        node[last] = value
    return nested


def flatten(nested: Mapping, *, groups: set[str] | None = None) -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}; with ``groups``, only those paths unfold."""
    flat: dict[str, Any] = {}

    def walk(node: Mapping, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            unfold = bool(value) if groups is None else path in groups
            if isinstance(value, Mapping) and unfold:
                walk(value, path + ".")
            else:
                flat[path] = value

    walk(nested, "")
    return flat


def to_schema(defs: list[InputDef]) -> list[dict]:
    """JSON description of the definitions; parse_definitions reads it back."""
    return [
        {
            "id": d.id,
            "type": d.type,
            "displayName": d.display_name,
            "description": d.description,
            "required": d.required,
            "defaults": d.default if d.has_default else None,
            "values": list(d.values),
            "min": d.min,
            "max": d.max,
            "validator": d.validator,
            "itemType": d.item_type,
        }
        for d in defs
    ]
