"""Expressions: `{{ ... }}` rendered by a sandboxed Jinja2 environment.

Undefined names are errors (StrictUndefined); every failure becomes RenderError so
the task run fails with the message instead of the worker crashing.
"""

import json
from functools import lru_cache
from typing import Any

from django.utils import timezone
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment


class RenderError(Exception):
    """A template could not be rendered; the message says which and why."""


def _finalize(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if value is None:
        return ""
    return value


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=True,
    )
    env.filters["json"] = env.filters["toJson"] = lambda v: json.dumps(v, default=str)
    env.globals["now"] = lambda: timezone.now().isoformat()
    return env


_ENVIRONMENT = _make_environment()


@lru_cache(maxsize=512)
def _compile(text: str):
    return _ENVIRONMENT.from_string(text)


def render_string(text: str, variables: dict) -> str:
    """Render one string; plain text without markers is returned untouched."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        return _compile(text).render(variables)
    except Exception as exc:  # any template failure is the flow author's error
        raise RenderError(f"cannot render {text!r}: {exc}") from exc


def render(value: Any, variables: dict) -> Any:
    """Render strings inside strings, lists and maps; other values pass through."""
    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render(item, variables) for key, item in value.items()}
    return value
