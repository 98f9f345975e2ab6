"""The resume API's statements, pinned: one answer is a handful of them.

ApiToken + user, the token with its locked execution row (tenant, visibility and
entitlement in the same SELECT), the token, task run and execution UPDATEs, the
events, the answer, and with the ORM broker the queue row. Nothing else: no
permission lookup for a user with a reason of their own, no read of earlier
outputs for the answer snapshot, no second lock.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf

from approvals import context
from approvals.models import Answer
from flows import trail
from flows.models import Execution
from tests.api_support import client_for, resume_url
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FLOW = """
id: spend
namespace: acme.finance
inputs:
  - id: amount
    type: INT
    defaults: 10
tasks:
  - id: note
    type: Return
    format: "spend {{ inputs.amount }}"
  - id: wait
    type: Pause
    screen: approval
    message: "Spend {{ inputs.amount }}?"
  - id: after
    type: Return
    format: "{{ outputs.wait.decision }}"
"""
BODY = {"decision": "Approved", "comment": "looks good"}
# The statements of one single-approver answer, in order.
ORM_BROKER = [
    "SELECT",  # ApiToken + user
    "SELECT",  # token + execution (locked) + flow + revision, checks annotated
    "UPDATE flows_suspensiontoken",
    "UPDATE flows_taskrun",
    "INSERT django_q_ormq",
    "INSERT flows_executionevent",
    "UPDATE flows_execution",  # state, lease and chain head at once
    "INSERT approvals_answer",
]


def kinds(captured) -> list[str]:
    """`SELECT`, or the verb and table of each write.

    Savepoints are left out: the test's own transaction turns the answer's into
    one; served, it is the request's transaction (BEGIN and COMMIT, not counted).
    """
    found = []
    for query in captured.captured_queries:
        words = query["sql"].replace('"', "").split()
        verb = words[0]
        if verb in ("SAVEPOINT", "RELEASE"):
            continue
        if verb == "SELECT":
            found.append(verb)
        else:
            table = (
                words[2]
                if verb in ("INSERT", "UPDATE") and words[1] == "INTO"
                else words[1]
            )
            found.append(f"{verb} {table}")
    return found


def orm_broker(monkeypatch):
    """From now on the queue row is written in the answer's transaction, as in
    production (the tests run the worker inline otherwise)."""
    monkeypatch.setattr(Conf, "SYNC", False)


def send(client, pk, body=BODY, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(resume_url(pk), body, format="json", headers=headers)
    assert response.status_code == 202, response.content
    return captured


def test_resume_by_execution_id_sends_eight_statements(pause, api, monkeypatch):
    token = pause(FLOW)
    orm_broker(monkeypatch)
    captured = send(api, token.execution_id)
    assert kinds(captured) == ORM_BROKER, [q["sql"] for q in captured]
    if connection.vendor == "postgresql":
        lookup = [q["sql"] for q in captured if "flows_suspensiontoken" in q["sql"]][0]
        assert lookup.startswith("SELECT")
        assert lookup.endswith('FOR UPDATE OF "flows_execution"')
    token.refresh_from_db()
    assert token.state == "RESUMED"


def test_resume_by_token_id_sends_as_many(pause, api, monkeypatch):
    token = pause(FLOW)
    orm_broker(monkeypatch)
    assert kinds(send(api, token.pk)) == ORM_BROKER


def test_without_the_orm_broker_the_queue_row_is_not_a_statement(pause, api):
    token = pause(FLOW)  # Redis and sync mode enqueue after the commit
    expected = [kind for kind in ORM_BROKER if kind != "INSERT django_q_ormq"]
    assert kinds(send(api, token.execution_id)) == expected


def test_an_answerer_with_a_reason_pays_no_permission_lookup(pause, api):
    token = pause(FLOW)
    captured = send(api, token.execution_id)
    assert not [q for q in captured if "auth_permission" in q["sql"]]


def test_an_auditor_with_no_other_reason_is_refused_403_not_404(pause, tenant):
    token = pause(
        FLOW.replace(
            "screen: approval", "screen: approval\n    assignees: {users: [bob]}"
        )
    )
    auditor = UserFactory(username="audrey", tenants=[tenant])
    auditor.user_permissions.add(Permission.objects.get(codename="view_execution"))
    response = client_for(auditor).post(resume_url(token.pk), BODY, format="json")
    assert response.status_code == 403, response.content
    assert "bob" in response.json()["detail"]


def test_a_member_with_no_reason_and_no_permission_gets_404(pause, tenant):
    token = pause(
        FLOW.replace(
            "screen: approval", "screen: approval\n    assignees: {users: [bob]}"
        )
    )
    stranger = UserFactory(username="sam", tenants=[tenant])
    response = client_for(stranger).post(resume_url(token.pk), BODY, format="json")
    assert response.status_code == 404


def test_the_chain_stays_whole_after_an_answer(pause, api, monkeypatch):
    token = pause(FLOW)
    orm_broker(monkeypatch)
    send(api, token.execution_id)
    report = trail.verify(Execution.objects.filter(pk=token.execution_id))
    assert report.events >= 3 and report.broken == []
    execution = Execution.objects.get(pk=token.execution_id)
    assert execution.state == "RUNNING" and execution.lease_until is not None


def test_an_api_answer_keeps_the_suspensions_own_context(pause, api):
    token = pause(FLOW)
    send(api, token.execution_id)
    answer = Answer.objects.get()
    assert "outputs" not in answer.shown_context
    assert answer.shown_context["message"] == "Spend 10?"
    assert answer.shown_context["inputs"] == {"amount": 10}
    assert answer.shown_hash == context.fingerprint(answer.shown_context)


def test_an_answer_sent_with_if_match_keeps_the_whole_context_it_matched(pause, api):
    token = pause(FLOW)
    shown = context.approval_context(token)
    send(api, token.pk, **{"If-Match": f'"{context.fingerprint(shown)}"'})
    answer = Answer.objects.get()
    assert answer.shown_context == shown
    assert answer.shown_context["outputs"]["note"] == {"value": "spend 10"}
