"""A flow revision's YAML as its author wrote it, less SECRET inputs' defaults.

A definition holds no secret values (those are inputs and answers, encrypted at
rest), except one an author writes as a SECRET input's `defaults:`. That value is
replaced by ****** where it is written, found through the YAML nodes' positions,
so the comments and layout around it stay as written.
"""

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, SequenceNode

MASK = '"******"'


def shown_source(source: str) -> str | None:
    """The source with SECRET defaults masked; None when it cannot be read."""
    try:
        root = YAML(typ="safe", pure=True).compose(source)
    except (YAMLError, RecursionError):
        return None
    spans = sorted(set(_secret_default_spans(root)), reverse=True)
    for start, end in spans:
        # A block scalar's span runs to its last line break; keep the breaks.
        breaks = len(source[start:end]) - len(source[start:end].rstrip("\n"))
        source = source[:start] + MASK + "\n" * breaks + source[end:]
    return source


def _secret_default_spans(root):
    """(start, end) of each SECRET input's `defaults` value, walking every node."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            entries = {key.value: value for key, value in node.value if _is_scalar(key)}
            kind = entries.get("type")
            default = entries.get("defaults")
            if (
                default is not None
                and _is_scalar(kind)
                and str(kind.value).strip().upper() == "SECRET"
            ):
                yield default.start_mark.index, default.end_mark.index
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _is_scalar(node) -> bool:
    return node is not None and isinstance(node.value, str)
