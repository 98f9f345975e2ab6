"""`notify`, `remind` and `escalate` are checked at load, with file:line:task."""

import textwrap

import pytest
from django.core import mail

from flows.loader import FlowDefinitionError, parse_flow
from flows.tasks.http import point_kestra_links
from tests.notify_support import people


def problems_of(task_lines: str) -> list[str]:
    source = "id: f\nnamespace: ns\ntasks:\n  - id: wait\n    type: Pause\n"
    source += textwrap.indent(textwrap.dedent(task_lines), "    ")
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(source, "flow.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            "notify: [email, pager]",
            "flow.yaml:6: task 'wait': 'notify' lists unknown channel 'pager'",
        ),
        ("notify: {sms: true}", "flow.yaml:6: task 'wait': unknown key 'sms'"),
        ("notify: {slack: {url: ftp://x}}", "must be an http(s) URL"),
        ("notify: 3", "'notify' must be true, false, a list of channels"),
        ("remind: 4 hours", "bad ISO 8601 duration '4 hours' for 'remind'"),
        ("remind: PT10S", "'remind' must be at least a minute"),
        ("escalate: P1D", "'escalate' must be a mapping with 'after'"),
        ("escalate: {after: soon, to: {users: [cfo]}}", "for 'escalate.after'"),
        ("escalate: {after: P1D, to: [cfo]}", "'escalate.to' must say which"),
        ("escalate: {after: P1D}", "'escalate.to' must name at least one"),
        ("assignees: {users: [a]}\nremind: PT1H\nnotify: {email: yes}", "true or"),
    ],
)
def test_bad_reaching_options_are_refused_at_load(lines, expected):
    problems = problems_of(lines)
    assert len(problems) == 1 and expected in problems[0]
    line = 6 + lines.count("\n")  # the last line holds the bad property
    assert problems[0].startswith(f"flow.yaml:{line}: task 'wait': ")


def test_escalating_a_pause_open_to_everyone_is_refused():
    [problem] = problems_of("escalate: {after: P1D, to: {users: [cfo]}}")
    assert problem == (
        "flow.yaml:4: task 'wait': 'escalate' needs 'assignees': a pause without "
        "them is open to every member already"
    )


def test_an_approval_takes_the_same_options(make_flow):
    flow = make_flow(
        """\
        id: spend
        namespace: acme
        tasks:
          - id: ok
            type: Approval
            assignees: {users: [bob]}
            notify: [email]
            remind: PT4H
            escalate: {after: P1D, to: {groups: [directors]}}
        """
    )
    task = flow.revisions.get().definition["tasks"][0]
    assert task["notify"] == {"email": True, "slack": False}
    assert task["escalate"] == {
        "after": "P1D",
        "to": {"users": [], "groups": ["directors"]},
    }


def test_an_approval_task_emails_and_its_link_answers_it(
    make_flow, run_on_commit, tenant, client
):
    from flows import engine
    from flows.models import SuspensionToken
    from tests.notify_support import links_in, path_of

    team = people(tenant)
    flow = make_flow(
        """\
        id: spend
        namespace: acme
        tasks:
          - id: ok
            type: Approval
            assignees: {users: [bob]}
        """
    )
    execution = run_on_commit(engine.start_execution, flow, {}, actor=team["alice"])
    [message] = mail.outbox
    client.force_login(team["bob"])
    run_on_commit(client.post, path_of(links_in(message)[0]), {"decision": "Approved"})
    token = SuspensionToken.objects.get(execution=execution)
    assert token.state == SuspensionToken.State.RESUMED
    assert token.channel == "email"


def test_kestra_ui_links_in_a_slack_text_point_here(settings):
    settings.SIGNOFF_BASE_URL = "https://signoff.example"
    body = b'{"text": "click http://localhost:28080/ui/executions/a/b/c"}'
    assert point_kestra_links(body) == (
        b'{"text": "click https://signoff.example/ui/executions/a/b/c"}'
    )


def test_kestras_execution_address_opens_the_execution(pause_token, tenant, client):
    team = people(tenant)
    token = pause_token("assignees: {users: [bob]}", actor=team["alice"])
    execution = token.execution
    flow = execution.flow
    path = f"/ui/executions/{flow.namespace}/{flow.flow_id}/{execution.pk}"
    assert client.get(path)["Location"].startswith("/accounts/login/?next=/ui/")
    client.force_login(team["bob"])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/executions/{execution.pk}/"
    wrong = f"/ui/executions/{flow.namespace}/other/{execution.pk}"
    assert client.get(wrong).status_code == 404
    client.force_login(team["dan"])  # not of this tenant
    assert client.get(path).status_code == 404
