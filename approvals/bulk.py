"""Answering several suspensions at once: each one exactly as if answered alone.

The screen's bulk form and `POST /api/suspensions/bulk-resume` both come here.
Every item goes through the single answer's checks in their order (tenant,
visibility, 409, 410, assignees and self-approval, the screen's form with its
required fields and commentRequired) and, when it passes, answers.answer(): its
own Answer row, its own event, its own transaction. One refused item never
stops the others.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from approvals import answers, serializers
from approvals.api import resume
from approvals.api.common import Problem, as_problem
from approvals.forms import answer_form
from flows.models import SuspensionToken

MAX_ITEMS = serializers.MAX_BULK_ITEMS
# An item's Idempotency-Key is the request's key, "/" and the id (36 characters).
MAX_KEY_LENGTH = resume.MAX_KEY_LENGTH - 37
ACTIONS = {"approve": "Approved", "reject": "Rejected", "resume": None}
Screen = SuspensionToken.Screen


@dataclass
class Result:
    token_id: str
    status: int  # the single resume's code: 202, 400, 403, 404, 409, 410
    body: dict = field(default_factory=dict)
    token: SuspensionToken | None = None

    @property
    def done(self) -> bool:
        return self.status == 202

    @property
    def reason(self) -> str:
        """Why it was refused, in a few words ("" when done)."""
        if self.done:
            return ""
        if self.status == 400 and self.body.get("errors"):
            return _missing_fields(self.body["errors"])
        if self.status == 410 and self.token is not None and self.token.expires_at:
            when = timezone.localtime(self.token.expires_at)
            return f"Expired: its deadline passed on {when:%Y-%m-%d %H:%M %Z}."
        return self.body.get("detail", "")


def resume_many(user, token_ids, data, *, key: str = "") -> list[Result]:
    """The API: each id answered exactly as `POST .../{id}/resume` would answer
    it (same code, same body); with an Idempotency-Key, each item's own key is
    `<key>/<id>`, so a retried bulk request replays each item's first reply."""
    results = []
    for token_id in token_ids:
        item_key = f"{key}/{token_id}" if key else ""
        try:
            response = resume.resume(user, str(token_id), data, item_key)
        except Exception as exc:
            problem = as_problem(exc)
            if problem is None:
                raise
            results.append(Result(str(token_id), problem.status, problem.body))
            continue
        results.append(Result(str(token_id), response.status_code, dict(response.data)))
    return results


def resume_one(user, token_id: str, data: dict, *, channel: str, token=None) -> Result:
    """One item of the screen's bulk answer, through the single answer's checks."""
    try:
        token = token or resume.find_token(user, token_id)
        values = resume.checked_values(user, token, dict(data))
        outcome = answers.answer(user, token, values, channel=channel)
    except Exception as exc:
        problem = as_problem(exc)
        if problem is None:
            raise
        return Result(token_id, problem.status, problem.body, token)
    body = {"executionId": str(token.execution_id), "status": "Resuming"}
    if not outcome.resumed:
        body.update(status="Waiting", approvals=outcome.approvals)
        body["required"] = outcome.required
    return Result(token_id, 202, body, token)


def screen_values(action: str, token: SuspensionToken, comment: str) -> dict:
    """What the bulk form's button means for this token's screen.

    Approve and Reject answer approval screens; Resume answers the others (a
    review is acknowledged, a form takes its defaults). An approval is never
    resumed without a decision, nor a form approved.
    """
    values = {"comment": comment} if comment else {}
    if token.screen == Screen.APPROVAL:
        if ACTIONS[action] is None:
            raise Problem(400, "This is an approval: choose Approve or Reject.")
        return {**values, "decision": ACTIONS[action]}
    if ACTIONS[action] is not None:
        raise Problem(
            400,
            f"This is a {token.get_screen_display().lower()} screen, "
            "not an approval: use Resume.",
        )
    if token.screen == Screen.REVIEW:
        values["acknowledged"] = True
    fields = {f.id for f in answer_form(token, api=True).input_fields}
    return {key: value for key, value in values.items() if key in fields}


def answer_from_screen(user, token_ids, action: str, comment: str) -> list[Result]:
    """The bulk form: each token gets the values its screen needs for `action`."""
    results = []
    for token_id in token_ids:
        token = None
        try:
            token = resume.find_token(user, str(token_id))
            data = screen_values(action, token, comment)
        except Exception as exc:
            problem = as_problem(exc)
            if problem is None:
                raise
            results.append(Result(str(token_id), problem.status, problem.body, token))
            continue
        results.append(
            resume_one(user, str(token_id), data, channel="web", token=token)
        )
    return results


def _missing_fields(errors: dict) -> str:
    """ "needs the field amount; comment: A comment is required …" """
    parts = []
    for name, messages in errors.items():
        text = " ".join(str(m) for m in messages)
        if "required" in text.lower() and "comment is required" not in text.lower():
            parts.append(f"needs the field {name}")
        else:
            parts.append(f"{name}: {text}" if name != "__all__" else text)
    return "; ".join(parts) or "Invalid response data."
