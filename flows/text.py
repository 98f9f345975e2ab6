"""Text that every database, page and JSON body can hold.

PostgreSQL refuses a NUL character in text and jsonb, and a lone surrogate (what
JSON's "\\ud800" escape decodes to) has no UTF-8 form, so a page or a body that
shows it cannot be sent. Neither is ever meant: both are refused where text comes
in (flow YAML, input values, labels, query values and URL parts) with the sentence
`problem` gives, so every channel says the same.
"""

import re
from collections.abc import Mapping

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def problem(text: str) -> str | None:
    """Why `text` cannot be stored or shown, or None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "NUL characters (\\0) are not allowed."
    return f"Lone surrogates (\\u{ord(found.group()):04x}) are not allowed."


def first_problem(value) -> str | None:
    """`problem` of the first string in a JSON-like value (keys included), or None.

    Walks with a stack, not recursion, so a deeply nested value cannot overflow it.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = problem(item)
            if found:
                return found
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None
