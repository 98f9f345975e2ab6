"""Checking one flow's YAML: every problem with its line; the normalised definition.

flows.loader reads files and saves revisions; this module only judges a flow.
"""

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from flows import inputs, reaching, retry, summaries, yaml_lines
from flows.durations import parse_duration
from flows.tasks import TASK_TYPES, get_task_type
from flows.tasks.base import COMMON_PROPERTIES, Property
from flows.tasks.pause import parse_assignees

ID_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
NAMESPACE_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
MAX_ID_LENGTH = 100  # Kestra's limit; the columns hold 200
MAX_NAMESPACE_LENGTH = 150
FLOW_KEYS = {
    "id",
    "namespace",
    "description",
    "summary",
    "labels",
    "inputs",
    "tasks",
    "variables",
    "disabled",
    "errors",
    "finally",
    # Kestra's exports carry it; Signoff numbers revisions itself.
    "revision",
}
# Kestra flow keys Signoff does not implement: refused, never silently ignored.
UNSUPPORTED_FLOW_KEYS = {
    "triggers",
    "afterExecution",
    "listeners",
    "concurrency",
    "outputs",
    "pluginDefaults",
    "taskDefaults",
    "retry",
    "sla",
    "checks",
    "workerGroup",
    "deleted",
}
# Kinds of the common task properties that are checked; the others are kept as-is.
COMMON_KINDS = {
    "timeout": Property("duration"),
    "description": Property("string"),
    "disabled": Property("bool"),
    "allowFailure": Property("bool"),
    "allowWarning": Property("bool"),
    "logToFile": Property("bool"),
    "runIf": Property("template"),
    "retry": Property("retry"),
}
ANY = Property("any")


def size_problem(size: int) -> str | None:
    """A sentence when a flow of `size` bytes is over SIGNOFF_MAX_FLOW_BYTES."""
    limit = settings.SIGNOFF_MAX_FLOW_BYTES
    if size <= limit:
        return None
    return (
        f"the file is {size:,} bytes; a flow may have at most {limit:,} "
        "(SIGNOFF_MAX_FLOW_BYTES)"
    )


NESTED_KINDS = {"task", "tasks"}


@dataclass(frozen=True)
class Problem:
    filename: str
    line: int | None
    task_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.filename if self.line is None else f"{self.filename}:{self.line}"
        task = f"task '{self.task_id}': " if self.task_id is not None else ""
        return f"{where}: {task}{self.message}"


def _suggest(word: str, candidates: Iterable[str]) -> str:
    candidates = list(candidates)
    same_letters = [c for c in candidates if c.lower() == word.lower()]
    close = same_letters or difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return repr(value) if isinstance(value, str) else str(value)


def _short_name(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


class FlowChecker:
    """Collects problems while walking one flow document."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.task_lines: dict[str, int | None] = {}

    def add(self, line: int | None, message: str, task_id=None) -> None:
        task = None if task_id is None else str(task_id)
        self.problems.append(Problem(self.filename, line, task, message))

    # -- the document --------------------------------------------------------

    def load(self, source: str):
        """The YAML as LineDicts, or None with the problem recorded."""
        too_big = size_problem(len(source.encode("utf-8", "surrogatepass")))
        if too_big:
            self.add(None, too_big)
            return None
        try:
            data = yaml_lines.load(source)
        except yaml_lines.InvalidYAML as exc:
            self.add(exc.line, f"invalid YAML: {exc.problem}")
            return None
        if data is None:
            self.add(None, "the file is empty; a flow needs id, namespace and tasks")
            return None
        if not isinstance(data, dict):
            self.add(
                getattr(data, "line", 1),
                "a flow must be a YAML mapping with id, namespace and tasks, "
                f"not {_describe(data)}",
            )
            return None
        too_big = yaml_lines.check_size(data)
        if too_big:
            self.add(None, too_big)
            return None
        return data

    def check_flow(self, data: yaml_lines.LineDict) -> dict:
        self.report_duplicate_keys(data, None)
        for key in data:
            self.check_flow_key(data, key)
        flow_id = self.identifier(data, "id", ID_RE, MAX_ID_LENGTH, "the flow")
        namespace = self.identifier(
            data, "namespace", NAMESPACE_RE, MAX_NAMESPACE_LENGTH, "the flow"
        )
        definition = {
            "id": flow_id,
            "namespace": namespace,
            "description": self.text(data, "description"),
            "labels": self.labels(data),
            "inputs": self.inputs(data, "inputs", "inputs", None) or [],
            "variables": self.mapping(data, "variables"),
            "disabled": self.flag(data, "disabled"),
        }
        if summary := self.summary(data):  # absent: a flow's checksum stays the same
            definition["summary"] = summary
        tasks = data.get("tasks")
        if tasks is None:
            self.add(data.line, "missing 'tasks': a flow needs at least one task")
        definition["tasks"] = self.task_list(data, "tasks", None, required=True)
        for handlers in ("errors", "finally"):
            definition[handlers] = self.task_list(data, handlers, None, required=False)
        return definition

    def check_flow_key(self, data: dict, key) -> None:
        line = data.line_of(key)
        if key in FLOW_KEYS:
            return
        if key in UNSUPPORTED_FLOW_KEYS:
            self.add(line, f"'{key}' is not supported by Signoff yet")
        else:
            hint = _suggest(str(key), FLOW_KEYS - {"revision"})
            self.add(line, f"unknown top-level key '{key}'{hint}")

    def report_duplicate_keys(self, value, task_id) -> None:
        if isinstance(value, dict):
            if "type" in value and isinstance(value.get("id"), str):
                task_id = value["id"]
            for key, first, again in getattr(value, "duplicates", ()):
                self.add(
                    again, f"duplicate key '{key}' (first at line {first})", task_id
                )
            for child in value.values():
                self.report_duplicate_keys(child, task_id)
        elif isinstance(value, list):
            for child in value:
                self.report_duplicate_keys(child, task_id)

    def identifier(self, data, key, pattern, max_length, owner, task_id=None):
        """A required id or namespace, checked against its pattern; None if bad."""
        value = data.get(key)
        if value is None:
            self.add(data.line, f"missing '{key}': {owner} needs one", task_id)
            return None
        if (
            not isinstance(value, str)
            or not pattern.fullmatch(value)
            or len(value) > max_length
        ):
            dot = ", '.'" if key == "namespace" else ""
            self.add(
                data.line_of(key),
                f"invalid {key} {_describe(value)}: use letters, digits{dot}, '_' "
                f"and '-', starting with a letter or digit, at most {max_length} "
                "characters",
                task_id,
            )
            return None
        return value

    def text(self, data, key) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, dict | list):
            self.add(data.line_of(key), f"'{key}' must be text, not {_describe(value)}")
            return ""
        return self.as_string(value)

    def summary(self, data) -> str:
        """The one-line summary template of a waiting item (flows.summaries)."""
        template = self.text(data, "summary")
        if template and (problem := summaries.check_template(template)):
            self.add(data.line_of("summary"), problem)
            return ""
        return template

    @staticmethod
    def as_string(value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(yaml_lines.to_plain(value))

    def flag(self, data, key) -> bool:
        value = data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(data.line_of(key), f"'{key}' must be true or false")
            return False
        return value

    def mapping(self, data, key) -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            message = f"'{key}' must be a mapping, not {_describe(value)}"
            self.add(data.line_of(key), message)
            return {}
        return yaml_lines.to_plain(value)

    def labels(self, data) -> dict[str, str]:
        """A map, or Kestra's list of {key, value}; values become strings."""
        value = data.get("labels")
        line = data.line_of("labels")
        if value is None:
            return {}
        if isinstance(value, list):
            pairs = {}
            for index, item in enumerate(value):
                if not _is_label_pair(item):
                    message = "each label in a list must be a mapping of key and value"
                    self.add(value.line_of(index), message)
                    continue
                pairs[item["key"]] = item["value"]
            value = pairs
        elif not isinstance(value, dict):
            self.add(line, f"'labels' must be a mapping, not {_describe(value)}")
            return {}
        labels = {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                self.add(line, f"label '{key}' must be text, not {_describe(item)}")
                continue
            labels[yaml_lines.plain_key(key)] = self.as_string(item)
        return labels

    def inputs(self, data, key, where, task_id):
        """Input definitions as the inputs module's schema, or None if absent/bad."""
        raw = data.get(key)
        if raw is None:
            return None
        plain = yaml_lines.to_plain(raw, keep_dates=True)
        try:
            return yaml_lines.to_plain(
                inputs.to_schema(inputs.parse_definitions(plain, where=where))
            )
        except inputs.InputDefinitionError as exc:
            self.add(_input_line(raw, exc, data.line_of(key)), str(exc), task_id)
            return None

    # -- tasks ---------------------------------------------------------------

    def task_list(self, data, key, owner_id, required) -> list[dict]:
        value = data.get(key)
        line = data.line_of(key)
        if value is None:
            return []
        if not isinstance(value, list):
            message = f"'{key}' must be a list of tasks, not {_describe(value)}"
            self.add(line, message, owner_id)
            return []
        if not value and required:
            self.add(line, f"'{key}' must list at least one task", owner_id)
        tasks = [
            self.task(item, value.line_of(i), owner_id) for i, item in enumerate(value)
        ]
        return [task for task in tasks if task is not None]

    def task(self, item, line, owner_id) -> dict | None:
        if not isinstance(item, dict):
            message = (
                f"a task must be a mapping with id and type, not {_describe(item)}"
            )
            self.add(line, message, owner_id)
            return None
        task_id = self.identifier(item, "id", ID_RE, MAX_ID_LENGTH, "a task")
        if task_id is not None:
            self.register_task_id(item, task_id)
        elif isinstance(item.get("id"), str):
            task_id = item["id"]  # invalid, but still the best name for the task
        task_type = self.task_type(item, task_id)
        if task_type is None:
            return yaml_lines.to_plain(item)
        before = len(self.problems)
        task = self.task_properties(item, task_type, task_id)
        # check() may assume well-formed properties, so it only sees a clean task.
        if len(self.problems) == before:
            for message in self.type_checks(task_type, task):
                self.add(item.line, message, task_id)
        return task

    @staticmethod
    def type_checks(task_type, task: dict) -> list[str]:
        try:
            return list(task_type.check(task))
        except Exception as exc:  # a user's odd value must not become a traceback
            name = _short_name(task_type.name)
            return [f"{name} could not check this task ({type(exc).__name__}: {exc})"]

    def register_task_id(self, item, task_id: str) -> None:
        if task_id in self.task_lines:
            first = self.task_lines[task_id]
            message = f"duplicate task id '{task_id}' (first at line {first})"
            self.add(item.line, message, task_id)
        else:
            self.task_lines[task_id] = item.line

    def task_type(self, item, task_id):
        value = item.get("type")
        if value is None:
            self.add(item.line, "missing 'type'", task_id)
            return None
        task_type = get_task_type(value) if isinstance(value, str) else None
        if task_type is None:
            hint = _suggest(str(value), TASK_TYPES) if isinstance(value, str) else ""
            self.add(
                item.line_of("type"), f"unknown type {_describe(value)}{hint}", task_id
            )
        return task_type

    def task_properties(self, item, task_type, task_id) -> dict:
        task = {}
        for key, value in item.items():
            if key in ("id", "type"):
                task[key] = task_type.name if key == "type" else value
                continue
            prop = task_type.properties.get(key) or COMMON_KINDS.get(key)
            if prop is None and key in COMMON_PROPERTIES:
                prop = ANY
            if prop is None:
                hint = _suggest(str(key), [*task_type.properties, *COMMON_PROPERTIES])
                type_name = _short_name(task_type.name)
                message = f"unknown property '{key}' for type {type_name}{hint}"
                self.add(item.line_of(key), message, task_id)
            elif value is not None:
                checked = self.property_value(item, key, prop, task_id)
                if checked is not _BAD:
                    task[key] = checked
        for key, prop in task_type.properties.items():
            if prop.required and item.get(key) is None:
                self.add(item.line, f"missing required property '{key}'", task_id)
        return task

    def property_value(self, item, key, prop, task_id):
        value = item[key]
        if prop.kind == "inputs":
            schema = self.inputs(item, key, key, task_id)
            return _BAD if schema is None else schema
        if prop.kind == "task":
            if not isinstance(value, dict):
                message = f"'{key}' must be one task (a mapping with id and type), "
                self.add(
                    item.line_of(key), message + f"not {_describe(value)}", task_id
                )
                return _BAD
            task = self.task(value, item.line_of(key), task_id)
            return _BAD if task is None else task
        if prop.kind == "tasks":
            return self.task_list(item, key, task_id, required=prop.required)
        if prop.kind == "cases":
            return self.cases(item, key, task_id)
        if prop.kind == "retry":
            for message in retry.check(yaml_lines.to_plain(value)):
                self.add(item.line_of(key), message, task_id)
            return yaml_lines.to_plain(value)
        try:
            return _convert(prop, key, value)
        except ValueError as exc:
            self.add(item.line_of(key), str(exc), task_id)
            return _BAD

    def cases(self, item, key, task_id) -> dict:
        """A Switch's `cases`: each value (as text) to its list of tasks."""
        value = item[key]
        if not isinstance(value, dict):
            message = f"'{key}' must map each value to a list of tasks, "
            self.add(item.line_of(key), message + f"not {_describe(value)}", task_id)
            return {}
        return {
            yaml_lines.plain_key(case): self.task_list(value, case, task_id, True)
            for case in value
        }


_BAD = object()


def _is_label_pair(item) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"key", "value"}
        and not isinstance(item["key"], dict | list)
    )


def _input_line(raw, exc: Exception, default: int | None) -> int | None:
    """The line of the input a problem is about, else the line of the inputs key."""
    input_id = getattr(exc, "input_id", None)
    if isinstance(raw, list) and input_id is not None:
        for index, item in enumerate(raw):
            if isinstance(item, dict) and input_id in (
                item.get("id"),
                item.get("name"),
            ):
                return raw.line_of(index)
    return default


def _convert(prop: Property, key: str, value):
    """A property value checked against its kind; ValueError names the problem."""
    converter = _CONVERTERS.get(prop.kind)
    if converter is None:  # "any", or a kind this loader does not know
        return yaml_lines.to_plain(value)
    return converter(prop, key, value)


def _to_text(prop, key, value) -> str:
    if isinstance(value, dict | list):
        raise ValueError(f"'{key}' must be text, not {_describe(value)}")
    return FlowChecker.as_string(value)


def _to_duration(prop, key, value) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"'{key}' must be an ISO 8601 duration such as PT5M, not {_describe(value)}"
        )
    if "{{" in value:  # rendered when the task runs
        return value
    try:
        parse_duration(value)
    except ValueError as exc:
        reason = str(exc)
        detail = " (e.g. PT5M, P1D)" if "not an ISO 8601" in reason else f": {reason}"
        raise ValueError(
            f"bad ISO 8601 duration '{value}' for '{key}'{detail}"
        ) from None
    return value


def _to_bool(prop, key, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"'{key}' must be true or false, not {_describe(value)}")


def _to_int(prop, key, value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value.strip()):
        return int(value)
    raise ValueError(f"'{key}' must be a whole number, not {_describe(value)}")


def _to_choice(prop, key, value) -> str:
    if isinstance(value, str) and value in prop.choices:
        return value
    hint = _suggest(str(value), prop.choices) if isinstance(value, str) else ""
    choices = ", ".join(prop.choices)
    raise ValueError(f"'{key}' must be one of {choices}, not {_describe(value)}{hint}")


def _to_list(prop, key, value) -> list:
    if not isinstance(value, list):
        raise ValueError(f"'{key}' must be a list, not {_describe(value)}")
    return yaml_lines.to_plain(value)


def _to_map(prop, key, value) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be a mapping, not {_describe(value)}")
    return yaml_lines.to_plain(value)


def _to_assignees(prop, key, value) -> dict:
    return parse_assignees(yaml_lines.to_plain(value))


def _to_notify(prop, key, value) -> dict:
    return reaching.parse_notify(yaml_lines.to_plain(value))


def _to_remind(prop, key, value) -> str:
    return reaching.parse_remind(yaml_lines.to_plain(value))


def _to_escalate(prop, key, value) -> dict:
    return reaching.parse_escalate(yaml_lines.to_plain(value))


_CONVERTERS = {
    "string": _to_text,
    "template": _to_text,
    "duration": _to_duration,
    "bool": _to_bool,
    "int": _to_int,
    "enum": _to_choice,
    "list": _to_list,
    "map": _to_map,
    "assignees": _to_assignees,
    "notify": _to_notify,
    "remind": _to_remind,
    "escalate": _to_escalate,
}
