"""What each answer screen asks for, on top of the Pause's onResume inputs.

The engine validates every answer against these fields, and approvals builds its
forms from the same list, so the web screen and the API share one set of rules.
"""

import dataclasses

from flows import inputs, secrets
from flows.inputs import InputDef, InputValidationError

DECISIONS = ("Approved", "Rejected")
DEFAULT_LABELS = {"pause": ("Approve", "Reject"), "approval": ("Approve", "Deny")}

_BUILT_IN = {
    "approval": [
        {
            "id": "decision",
            "type": "ENUM",
            "values": list(DECISIONS),
            "description": "Approve or reject.",
        },
        {
            "id": "comment",
            "type": "STRING",
            "required": False,
            "description": "Optional comment.",
        },
    ],
    "review": [
        {
            "id": "acknowledged",
            "type": "BOOLEAN",
            "displayName": "I have reviewed this.",
            "description": "Tick to confirm you have read what is shown above.",
        },
        {
            "id": "comment",
            "type": "STRING",
            "required": False,
            "description": "Optional comment.",
        },
    ],
}


def response_fields(screen: str, schema: list) -> list[InputDef]:
    """The screen's own fields, then the onResume inputs (which win on a clash)."""
    own = inputs.parse_definitions(schema, where="onResume input")
    taken = {field.id for field in own}
    built_in = inputs.parse_definitions(
        [f for f in _BUILT_IN.get(screen, []) if f["id"] not in taken]
    )
    return built_in + own


# Words a channel may send for the decision; the stored value is one of DECISIONS.
DECISION_WORDS = {
    "approved": "Approved",
    "approve": "Approved",
    "rejected": "Rejected",
    "reject": "Rejected",
    "denied": "Rejected",
    "deny": "Rejected",
}
COMMENT_NEEDED = {
    "ALWAYS": set(DECISIONS),
    "ON_DENY": {"Rejected"},
    "ON_APPROVE": {"Approved"},
}


def validate_response(screen: str, schema: list, data, *, options=None) -> dict:
    """Typed, defaulted answer values, or InputValidationError naming each bad field.

    On an approval screen a Reject needs none of the onResume fields (a person
    who says no is not asked for the details of a yes), and a comment is required
    when the task's `commentRequired` says so for that decision. SECRET fields come
    back sealed (flows.secrets): these are the values every channel stores.
    """
    options = options or {}
    data = _with_decision_word(data, options) if screen == "approval" else data
    fields = response_fields(screen, schema)
    rejected = isinstance(data, dict) and data.get("decision") == DECISIONS[1]
    own = {d.id for d in inputs.parse_definitions(schema, where="onResume input")}
    if rejected:
        fields = [_optional(f) if f.id in own else f for f in fields]
    values = inputs.validate(fields, data or {})
    if screen == "review" and values.get("acknowledged") is not True:
        raise InputValidationError(
            {"acknowledged": ["Acknowledge the review to resume."]}
        )
    needs_comment = COMMENT_NEEDED.get(options.get("commentRequired", "NEVER"), set())
    decision = values.get("decision")
    if decision in needs_comment and not (values.get("comment") or "").strip():
        label = decision_labels(options)[DECISIONS.index(decision)]
        message = f"A comment is required when you choose “{label}”."
        raise InputValidationError({"comment": [message]})
    return seal_response(screen, schema, values)


def seal_response(screen: str, schema: list, values: dict) -> dict:
    """Answer values with their SECRET fields sealed (already sealed ones kept)."""
    return secrets.seal(response_fields(screen, schema), values)


def decision_labels(options: dict) -> tuple[str, str]:
    """(approve, reject) button labels: the task's `decisions` or the defaults."""
    labels = options.get("decisions") or ()
    if len(labels) == 2:
        return tuple(labels)
    return DEFAULT_LABELS.get(options.get("kind"), DEFAULT_LABELS["pause"])


def _optional(field: InputDef) -> InputDef:
    return dataclasses.replace(field, required=False)


def _with_decision_word(data, options: dict):
    """Accept "APPROVED", "deny", or the task's own button labels for the decision."""
    if not isinstance(data, dict) or not isinstance(data.get("decision"), str):
        return data
    word = data["decision"].strip()
    labels = options.get("decisions") or []
    by_label = dict(zip((label.lower() for label in labels), DECISIONS, strict=False))
    found = DECISION_WORDS.get(word.lower()) or by_label.get(word.lower())
    return {**data, "decision": found} if found else data


def timeout_response(screen: str, schema: list) -> dict:
    """The answer used when a Pause times out with RESUME or WARN: every default."""
    fields = response_fields(screen, schema)
    return secrets.seal(fields, inputs.defaults(fields))
