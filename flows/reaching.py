"""How a Pause or an Approval reaches people: its `notify`, `remind`, `escalate`.

    notify: false                      # tell nobody (the inbox still lists it)
    notify: [email, slack]             # these channels, Slack at the settings' URL
    notify: {email: true, slack: {url: "{{ secret('SLACK_HOOK') }}"}}
    remind: PT4H                       # re-tell who has not answered, every 4 hours
    escalate: {after: P1D, to: {users: [cfo], groups: [directors]}}

With no `notify`, assignees get an email and, when SIGNOFF_NOTIFY_SLACK_URL is
set, the channel gets a post. Parsed here at load (ValueError names the problem)
and again when the task runs, so a stored flow is held to the same rules.
"""

from flows.durations import parse_duration

CHANNELS = ("email", "slack")


def parse_notify(value) -> dict:
    """`{"email": bool, "slack": url | True | False | None}`; None: the settings'."""
    if value is None or value is True:
        return {"email": True, "slack": None}
    if value is False:
        return {"email": False, "slack": False}
    if isinstance(value, list):
        unknown = [str(item) for item in value if item not in CHANNELS]
        if unknown:
            raise ValueError(
                f"'notify' lists unknown channel '{unknown[0]}' (expected email, slack)"
            )
        return {"email": "email" in value, "slack": "slack" in value}
    if not isinstance(value, dict):
        raise ValueError(
            "'notify' must be true, false, a list of channels (email, slack) or a "
            f"mapping such as {{email: true, slack: {{url: ...}}}}, not {value!r}"
        )
    unknown = [str(key) for key in value if key not in CHANNELS]
    if unknown:
        raise ValueError(
            f"unknown key '{unknown[0]}' in 'notify' (expected email, slack)"
        )
    email = value.get("email", True)
    if not isinstance(email, bool):
        raise ValueError(f"'notify.email' must be true or false, not {email!r}")
    return {"email": email, "slack": _slack(value.get("slack", False))}


def _slack(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict) and set(value) == {"url"}:
        value = value["url"]
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if "{{" not in text and not text.startswith(("https://", "http://")):
            raise ValueError(f"'notify.slack.url' must be an http(s) URL, not {text!r}")
        return text
    raise ValueError(
        "'notify.slack' must be true, false or {url: <incoming webhook URL>}, "
        f"not {value!r}"
    )


def parse_remind(value) -> str:
    """An ISO 8601 duration of at least a minute (a template is checked when run)."""
    if not isinstance(value, str):
        raise ValueError(
            f"'remind' must be an ISO 8601 duration such as PT4H, not {value!r}"
        )
    if "{{" not in value and interval_seconds(value, "remind") < 60:
        raise ValueError(f"'remind' must be at least a minute (PT1M), not '{value}'")
    return value


def parse_escalate(value) -> dict:
    """`{"after": duration, "to": {"users": [...], "groups": [...]}}`."""
    from flows.tasks.pause import parse_assignees  # pause imports this module

    if not isinstance(value, dict) or set(value) - {"after", "to"}:
        raise ValueError(
            "'escalate' must be a mapping with 'after' (a duration) and 'to' "
            "(users and/or groups), e.g. {after: P1D, to: {users: [cfo]}}"
        )
    after = value.get("after")
    if not isinstance(after, str):
        raise ValueError("'escalate.after' must be an ISO 8601 duration such as P1D")
    if "{{" not in after:
        interval_seconds(after, "escalate.after")
    try:
        to = parse_assignees(value.get("to") or {})
    except ValueError as exc:
        raise ValueError(str(exc).replace("'assignees", "'escalate.to")) from None
    if not any(to.values()):
        raise ValueError("'escalate.to' must name at least one user or group")
    return {"after": after, "to": to}


def interval_seconds(text: str, key: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ValueError(f"bad ISO 8601 duration '{text}' for '{key}': {exc}") from None
