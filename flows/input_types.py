"""One converter per input type: a submitted value -> its JSON form.

A value may arrive typed (JSON from the API, YAML from a flow definition) or as
a string (an HTML form, the CLI's ``--input key=value``). Each converter takes
``(value, defn)`` and returns the JSON-safe stored form, or raises ValueError
with a short sentence for the user. Converters accept their own output, so
stored values can be fed back in unchanged.
"""

import contextlib
import datetime as dt
import json
import math
import os
import re
import uuid
from collections.abc import Mapping
from urllib.parse import urlparse

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.utils.text import get_valid_filename

from flows import text as texts
from flows import yaml_lines
from flows.durations import format_duration, parse_duration

_INT_RE = re.compile(r"[+-]?\d+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"\d{2}:\d{2}(:\d{2})?")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def scalar_text(value) -> str:
    """A scalar as text, spelling booleans the JSON way (YAML turns yes into True)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_value(value) -> None:
    """Refuse what no converter should see: text no database or page can hold
    (flows.text), or a value nested too deep or too big to walk (yaml_lines)."""
    if isinstance(value, Mapping | list | tuple):
        too_big = yaml_lines.check_size(value)
        if too_big:
            raise ValueError(f"{too_big[:1].upper()}{too_big[1:]}.")
    problem = texts.first_problem(value)
    if problem:
        raise ValueError(problem)


def json_safe(value):
    """Make a parsed YAML/JSON value storable as JSON (dates become ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Enter a finite number.")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"A {type(value).__name__} cannot be stored as JSON.")


def to_string(value, defn=None):
    if isinstance(value, Mapping | list | tuple):
        raise ValueError("Enter text, not a list or a map.")
    text = scalar_text(value)
    pattern = getattr(defn, "validator", None)
    if pattern and not re.fullmatch(pattern, text):
        raise ValueError(f"Must match the pattern {pattern}.")
    return text


def to_int(value, defn=None):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        with contextlib.suppress(ValueError):  # past Python's 4,300 digits
            return int(value.strip())
    raise ValueError("Enter a whole number.")


def to_float(value, defn=None):
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):  # an int past 1.8e308
            number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    if number is None or not math.isfinite(number):
        raise ValueError("Enter a number.")
    return number


def to_boolean(value, defn=None):
    if isinstance(value, bool):
        return value
    text = scalar_text(value).strip().lower()
    if isinstance(value, str | int) and text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError("Enter true or false.")


def to_date(value, defn=None):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError("Enter a valid date (YYYY-MM-DD).")


def to_datetime(value, defn=None):
    moment = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            moment = dt.datetime.fromisoformat(value.strip())
    if moment is None:
        raise ValueError("Enter a valid date and time (ISO 8601).")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


def to_time(value, defn=None):
    if isinstance(value, dt.time) and value.tzinfo is None:
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, str) and _TIME_RE.fullmatch(value.strip()):
        try:
            return dt.time.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError("Enter a valid time (HH:MM or HH:MM:SS).")


def to_duration(value, defn=None):
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta():
            raise ValueError("A duration must be zero or more.")
        return format_duration(value)
    if not isinstance(value, str):
        raise ValueError("Enter an ISO 8601 duration (e.g. PT5M, P1D).")
    return format_duration(parse_duration(value))


def to_enum(value, defn):
    text = "" if isinstance(value, Mapping | list) else scalar_text(value)
    if text not in defn.values:
        choices = ", ".join(defn.values)
        raise ValueError(f"Select a valid choice: '{text}' is not one of {choices}.")
    return text


def to_multiselect(value, defn):
    if isinstance(value, str):
        text = value.strip()
        items = _json_list(text) if text.startswith("[") else text.split(",")
        value = [item.strip() if isinstance(item, str) else item for item in items]
    if not isinstance(value, list | tuple):
        raise ValueError("Select one or more choices.")
    chosen = [to_enum(item, defn) for item in value]
    return list(dict.fromkeys(chosen))


def to_array(value, defn=None):
    if isinstance(value, str):
        value = _json_list(value.strip())
    if not isinstance(value, list | tuple):
        raise ValueError('Enter a list, e.g. ["a", "b"].')
    item_type = getattr(defn, "item_type", None)
    if not item_type:
        return json_safe(list(value))
    items = []
    for index, item in enumerate(value, start=1):
        try:
            items.append(CONVERTERS[item_type](item, None))
        except ValueError as exc:
            raise ValueError(f"Item {index}: {exc}") from None
    return items


def _json_list(text):
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        items = None
    if not isinstance(items, list):
        raise ValueError('Enter a list, e.g. ["a", "b"].')
    check_value(items)
    return items


def to_json(value, defn=None):
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except RecursionError:
            raise ValueError(f"Enter valid JSON: {yaml_lines.too_deep()}.") from None
        except ValueError as exc:
            raise ValueError(f"Enter valid JSON: {exc}.") from None
        check_value(value)
    return json_safe(value)


def to_yaml(value, defn=None):
    if isinstance(value, str):
        try:
            value = yaml_lines.load_plain(value)
        except yaml_lines.InvalidYAML as exc:
            raise ValueError(f"Enter valid YAML: {exc.problem}.") from None
    return json_safe(value)


def to_uri(value, defn=None):
    text = value.strip() if isinstance(value, str) else ""
    parts = urlparse(text)
    if not parts.scheme or not (parts.netloc or parts.path) or re.search(r"\s", text):
        raise ValueError("Enter a valid URI.")
    return text


def to_email(value, defn=None):
    text = value.strip() if isinstance(value, str) else ""
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError("Enter a valid email address.") from None
    return text


def is_upload(value) -> bool:
    return hasattr(value, "read") and hasattr(value, "name")


def to_file(value, defn=None):
    """Keep a file reference as given, or store an upload and return its URI."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if not is_upload(value):
        raise ValueError("Upload a file or give a file URI.")
    try:
        name = get_valid_filename(os.path.basename(value.name or ""))
    except SuspiciousFileOperation:
        name = "upload"
    saved = default_storage.save(f"inputs/{uuid.uuid4()}/{name}", value)
    return f"storage://{saved}"


CONVERTERS = {
    "STRING": to_string,
    "SECRET": to_string,
    "INT": to_int,
    "FLOAT": to_float,
    "BOOLEAN": to_boolean,
    "DATE": to_date,
    "DATETIME": to_datetime,
    "TIME": to_time,
    "DURATION": to_duration,
    "ENUM": to_enum,
    "MULTISELECT": to_multiselect,
    "ARRAY": to_array,
    "JSON": to_json,
    "YAML": to_yaml,
    "URI": to_uri,
    "EMAIL": to_email,
    "FILE": to_file,
}

# JSON form -> Python value, for the types whose Python value is not the JSON one.
PARSERS = {
    "DATE": dt.date.fromisoformat,
    "DATETIME": dt.datetime.fromisoformat,
    "TIME": dt.time.fromisoformat,
    "DURATION": parse_duration,
}

RANGED = {"INT", "FLOAT", "DATE", "DATETIME", "TIME", "DURATION"}
_CALENDAR = {"DATE", "DATETIME", "TIME"}


def check_range(defn, json_value) -> None:
    """Raise ValueError when a ranged value falls outside defn.min/defn.max."""
    parse = PARSERS.get(defn.type, lambda v: v)
    value = parse(json_value)
    low, high = ("on or after", "on or before")
    if defn.type not in _CALENDAR:
        low, high = ("at least", "at most")
    if defn.min is not None and value < parse(defn.min):
        raise ValueError(f"Must be {low} {defn.min}.")
    if defn.max is not None and value > parse(defn.max):
        raise ValueError(f"Must be {high} {defn.max}.")
