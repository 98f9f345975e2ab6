"""What each answer screen asks for, on top of the Pause's onResume inputs.

The engine validates every answer against these fields, and approvals builds its
forms from the same list, so the web screen and the API share one set of rules.
"""

from flows import inputs
from flows.inputs import InputDef, InputValidationError

DECISIONS = ("Approved", "Rejected")

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


def validate_response(screen: str, schema: list, data) -> dict:
    """Typed, defaulted answer values, or InputValidationError naming each bad field."""
    values = inputs.validate(response_fields(screen, schema), data or {})
    if screen == "review" and values.get("acknowledged") is not True:
        raise InputValidationError(
            {"acknowledged": ["Acknowledge the review to resume."]}
        )
    return values


def timeout_response(screen: str, schema: list) -> dict:
    """The answer used when a Pause times out with RESUME or WARN: every default."""
    return inputs.defaults(response_fields(screen, schema))
