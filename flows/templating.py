"""Expressions: `{{ ... }}` rendered by a sandboxed Jinja2 environment.

Undefined names are errors (StrictUndefined); every failure becomes RenderError so
the task run fails with the message instead of the worker crashing.

Output is capped at SIGNOFF_MAX_RENDER_BYTES. The operators that can build a big
value from a small template (`*`, `**`, `+`, `~`) and every join of output pieces
check the size they would produce *before* producing it, so `{{ 'a' * 10**9 }}`
fails at once instead of allocating a gigabyte. (The sandbox already refuses a
`range` of more than 100,000 items.)
"""

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from jinja2 import StrictUndefined
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment

SEQUENCES = (str, bytes, list, tuple)


class RenderError(Exception):
    """A template could not be rendered; the message says which and why."""


class TooLarge(RenderError):
    def __init__(self):
        cap = settings.SIGNOFF_MAX_RENDER_BYTES
        super().__init__(f"the output would exceed SIGNOFF_MAX_RENDER_BYTES ({cap})")


def _check_size(size: float) -> None:
    if size > settings.SIGNOFF_MAX_RENDER_BYTES:
        raise TooLarge()


def _result_size(operator: str, left: Any, right: Any) -> float:
    """What `left <operator> right` would weigh (items, characters or bytes)."""
    if operator == "*":
        if isinstance(left, SEQUENCES) and isinstance(right, int):
            return len(left) * right
        if isinstance(right, SEQUENCES) and isinstance(left, int):
            return len(right) * left
        if isinstance(left, int) and isinstance(right, int):
            return (left.bit_length() + right.bit_length()) / 8
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        return max(right, 0) * max(abs(left), 2).bit_length() / 8
    if operator == "+" and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        return len(left) + len(right)
    return 0


def join_capped(pieces: Iterable[Any]) -> str:
    """Join like str.join, refusing once the total passes the cap (output, `~`)."""
    kept, size = [], 0
    for piece in pieces:
        size += len(piece)
        _check_size(size)
        kept.append(piece)
    return "".join(kept)


class _CappedCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to the environment's capped join instead of str_join."""

    def visit_Concat(self, node, frame) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape:
            return super().visit_Concat(node, frame)
        self.write("concat(map(str, (")  # the template's concat = environment.concat
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+"})
    code_generator_class = _CappedCodeGenerator
    concat = staticmethod(join_capped)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _check_size(_result_size(operator, left, right))
        return super().call_binop(context, operator, left, right)


def _finalize(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if value is None:
        return ""
    return value


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = _Environment(
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


def parse(text: str) -> None:
    """Raise jinja2.TemplateSyntaxError unless `text` is a valid template."""
    _ENVIRONMENT.parse(text)


def render_string(text: str, variables: dict) -> str:
    """Render one string; plain text without markers is returned untouched."""
    if "{{" not in text and "{%" not in text:
        return text
    try:
        rendered = _compile(text).render(variables)
    except Exception as exc:  # any template failure is the flow author's error
        raise RenderError(f"cannot render {text!r}: {exc}") from exc
    if len(rendered) * 4 > settings.SIGNOFF_MAX_RENDER_BYTES:  # maybe over in UTF-8
        try:
            _check_size(len(rendered.encode("utf-8", "surrogatepass")))
        except TooLarge as exc:
            raise RenderError(f"cannot render {text[:200]!r}: {exc}") from None
    return rendered


def render(value: Any, variables: dict) -> Any:
    """Render strings inside strings, lists and maps; other values pass through."""
    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, list):
        return [render(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render(item, variables) for key, item in value.items()}
    return value
