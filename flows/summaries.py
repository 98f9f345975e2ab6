"""A waiting item's one-line summary, rendered once when its pause begins.

The flow's top-level `summary:` template, rendered with the execution's variables
(sandboxed, like every expression); when there is none, or it fails or renders
empty, the first inputs: "Grace · 2042-07-01 → 2042-07-07". Stored on the token,
so a list of waiting items reads it with the row (no rendering per page).
"""

from typing import Any

from jinja2 import TemplateSyntaxError

from flows import secrets, templating

MAX_LENGTH = 200
FIRST_INPUTS = 3
PART_LENGTH = 60
DATES = {"DATE", "DATETIME"}


def check_template(text: str) -> str | None:
    """Why `text` cannot be a summary template, or None (the loader's check)."""
    try:
        templating.parse(text)
    except TemplateSyntaxError as exc:
        return f"'summary' is not a valid template: {exc.message}"
    return None


def summarize(definition: dict, inputs: dict, variables: dict, known=()) -> str:
    """The summary of an execution of `definition` (secrets shown as ******)."""
    template = definition.get("summary") or ""
    if template:
        try:
            rendered = templating.render_string(template, variables)
        except templating.RenderError:
            rendered = ""  # a broken summary must not break the pause or the inbox
        line = one_line(secrets.scrub(str(rendered), known))
        if line:
            return line
    return first_inputs(definition.get("inputs") or [], secrets.mask(inputs or {}))


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 1] + "…"


def first_inputs(schema: list[dict], values: dict) -> str:
    """The first few non-empty inputs in definition order; a date followed by a
    date reads as a range ("2042-07-01 → 2042-07-07")."""
    parts: list[str] = []
    previous_was_date = False
    for definition in schema:
        value = _lookup(values, definition.get("id", ""))
        shown = _shown(value)
        if not shown:
            previous_was_date = False
            continue
        is_date = definition.get("type") in DATES
        if is_date and previous_was_date:
            parts[-1] = f"{parts[-1]} → {shown}"
            previous_was_date = False
            continue
        if len(parts) == FIRST_INPUTS:
            break
        parts.append(shown)
        previous_was_date = is_date
    return one_line(" · ".join(parts))


def _lookup(values: dict, dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _shown(value: Any) -> str:
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    text = " ".join(str(value).split())
    return text if len(text) <= PART_LENGTH else text[: PART_LENGTH - 1] + "…"
