"""Assignees name users and groups apart: `assignees: {users: [...], groups: [...]}`.

A user is matched by user name, a group by the user's membership, and never one
for the other: a user called like a group is not in it.
"""

import importlib
import textwrap

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from approvals import access, answers
from flows import engine, loader
from flows.models import Execution, SuspensionToken, TokenAssignee
from tests.api_support import client_for
from tests.factories import UserFactory, give_permissions

FLOW = """\
id: sign
namespace: acme.ops
inputs:
  - id: who
    type: STRING
    defaults: ann
tasks:
  - id: ask
    type: Pause
{assignees}
"""


def flow_with(assignees: str) -> str:
    return FLOW.format(assignees=textwrap.indent(textwrap.dedent(assignees), "    "))


def problems(assignees: str) -> list[str]:
    with pytest.raises(loader.FlowDefinitionError) as caught:
        loader.parse_flow(flow_with(assignees), "sign.yaml")
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def start(make_flow, run_on_commit):
    def start(assignees: str, who: str = "ann") -> Execution:
        flow = make_flow(flow_with(assignees))
        return run_on_commit(engine.start_execution, flow, {"who": who})

    return start


def token_of(execution) -> SuspensionToken:
    return SuspensionToken.objects.select_related("execution").get(execution=execution)


# ------------------------------------------------------------------ at load


def test_users_and_groups_load_as_two_lists():
    definition = loader.parse_flow(
        flow_with("assignees:\n  users: [ann]\n  groups: [managers]"), "sign.yaml"
    )
    assert definition["tasks"][0]["assignees"] == {
        "users": ["ann"],
        "groups": ["managers"],
    }
    only_groups = loader.parse_flow(flow_with("assignees: {groups: [hr]}"), "x.yaml")
    assert only_groups["tasks"][0]["assignees"] == {"users": [], "groups": ["hr"]}


def test_the_old_list_form_is_refused_with_the_rewrite():
    assert problems("assignees: [managers, ann]") == [
        "sign.yaml:10: task 'ask': 'assignees' must say which names are users and "
        "which are groups: write assignees: {groups: [managers, ann]} or "
        "{users: [managers, ann]} (or both keys), not a list"
    ]


def test_an_empty_list_still_means_anyone():
    definition = loader.parse_flow(flow_with("assignees: []"), "sign.yaml")
    assert definition["tasks"][0]["assignees"] == {"users": [], "groups": []}


@pytest.mark.parametrize(
    ("assignees", "message"),
    [
        ("assignees: {people: [ann]}", "unknown key 'people' in 'assignees'"),
        ("assignees: {users: ann}", "'assignees.users' must be a list of user names"),
        ("assignees: {groups: [1]}", "'assignees.groups' must list group names as"),
        ('assignees: {users: [""]}', "'assignees.users' must list user names as"),
        (f"assignees: {{users: [{'a' * 151}]}}", "is longer than 150 characters"),
        ("assignees: managers", "'assignees' must be a mapping with 'users'"),
    ],
)
def test_malformed_assignees_are_named_with_their_line(assignees, message):
    [problem] = problems(assignees)
    assert problem.startswith("sign.yaml:10: task 'ask': ") and message in problem


def test_approval_tasks_take_the_same_form():
    source = """\
    id: claim
    namespace: acme.ops
    tasks:
      - id: sign_off
        type: Approval
        assignees: [managers]
    """
    with pytest.raises(loader.FlowDefinitionError, match="sign.yaml:6: .*not a list"):
        loader.parse_flow(textwrap.dedent(source), "sign.yaml")


# ------------------------------------------------------------------ at run time


def test_templated_names_are_rendered_into_rows_with_their_kind(start):
    token = token_of(start('assignees: {users: ["{{ inputs.who }}"], groups: [hr]}'))
    assert token.assignees == {"users": ["ann"], "groups": ["hr"]}
    rows = set(token.assignee_rows.values_list("kind", "name"))
    assert rows == {("user", "ann"), ("group", "hr")}


def test_a_name_rendered_empty_fails_the_task_instead_of_opening_it(start):
    execution = start('assignees: {users: ["{{ inputs.who }}"]}', who="  ")
    execution.refresh_from_db()
    assert execution.state == Execution.State.FAILED
    assert not SuspensionToken.objects.filter(execution=execution).exists()
    run = execution.task_runs.get(task_id="ask")
    assert "'assignees.users' entry '{{ inputs.who }}' rendered empty" in run.error


# ------------------------------------------------------------------ matching


def test_a_user_named_like_a_group_is_not_that_group(tenant, start):
    Group.objects.create(name="approvers")
    impostor = UserFactory(username="approvers", tenants=[tenant])
    token = token_of(start("assignees: {groups: [approvers]}"))
    with pytest.raises(access.Denied, match="Only members of approvers may"):
        access.check_may_answer(impostor, token)
    assert not access.answerable_tokens(impostor).exists()
    assert not access.visible_executions(impostor).exists()
    api = client_for(impostor)
    response = api.post(f"/api/executions/{token.pk}/resume", {}, format="json")
    assert response.status_code == 404  # not theirs even to see
    give_permissions(impostor, "flows.view_execution")
    response = client_for(impostor).post(
        f"/api/executions/{token.pk}/resume", {}, format="json"
    )
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.WAITING


def test_a_group_member_answers_a_group_assigned_token(tenant, start, run_on_commit):
    member = UserFactory(username="gina", tenants=[tenant])
    member.groups.add(Group.objects.create(name="approvers"))
    token = token_of(start("assignees: {groups: [approvers]}"))
    access.check_may_answer(member, token)
    assert list(access.answerable_tokens(member)) == [token]
    run_on_commit(answers.answer, member, token, {}, channel="web")
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.RESUMED


def test_the_same_name_as_a_user_matches_only_the_user(tenant, start):
    Group.objects.create(name="approvers").user_set.add(
        member := UserFactory(username="gina", tenants=[tenant])
    )
    user = UserFactory(username="approvers", tenants=[tenant])
    token = token_of(start("assignees: {users: [approvers]}"))
    access.check_may_answer(user, token)
    assert list(access.answerable_tokens(user)) == [token]
    with pytest.raises(access.Denied, match="Only approvers may answer this."):
        access.check_may_answer(member, token)
    assert not access.answerable_tokens(member).exists()


# ------------------------------------------------------------------ migration 0008

MIGRATION = importlib.import_module("flows.migrations.0008_assignee_kind")


def test_old_names_resolve_to_a_group_only_when_one_exists():
    assert MIGRATION.resolve(["managers", "ann", "{{ inputs.who }}"], {"managers"}) == {
        "users": ["ann", "{{ inputs.who }}"],
        "groups": ["managers"],
    }
    definition = {
        "tasks": [
            {"id": "a", "type": "Pause", "assignees": ["managers"]},
            {"id": "p", "type": "Parallel", "tasks": [{"id": "b", "type": "Pause"}]},
            {"id": "c", "type": "Approval", "onDeny": [{"id": "d", "type": "Log"}]},
        ]
    }
    assert MIGRATION._rewrite(definition, {"managers"})
    assert definition["tasks"][0]["assignees"] == {"users": [], "groups": ["managers"]}
    assert not MIGRATION._rewrite(definition, {"managers"})  # already converted


@pytest.mark.django_db(transaction=True)
def test_migration_0008_gives_old_rows_their_kind(default_tenant):
    executor = MigrationExecutor(connection)
    executor.migrate([("flows", "0006_sweeper_lease")])
    old = executor.loader.project_state([("flows", "0006_sweeper_lease")]).apps
    try:
        old.get_model("auth", "Group").objects.create(name="managers")
        token_id = _old_token(old, ["managers", "ann"])
        rows = old.get_model("flows", "TokenAssignee").objects
        rows.create(token_id=token_id, name="managers")
        rows.create(token_id=token_id, name="ann")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    token = SuspensionToken.objects.get(pk=token_id)
    assert token.assignees == {"users": ["ann"], "groups": ["managers"]}
    assert set(TokenAssignee.objects.values_list("kind", "name")) == {
        ("group", "managers"),
        ("user", "ann"),
    }
    revision = token.execution.revision
    assert revision.definition["tasks"][0]["assignees"] == token.assignees


def _old_token(apps, names):
    """A flow, execution, task run and token as rows were before 0008."""
    tenant = apps.get_model("flows", "Tenant").objects.get(slug="default")
    flow = apps.get_model("flows", "Flow").objects.create(
        tenant=tenant, namespace="acme", flow_id="old", latest_revision=1
    )
    task = {"id": "ask", "type": "io.kestra.plugin.core.flow.Pause", "assignees": names}
    revision = apps.get_model("flows", "FlowRevision").objects.create(
        flow=flow, revision=1, source="", definition={"tasks": [task]}, checksum=""
    )
    execution = apps.get_model("flows", "Execution").objects.create(
        tenant=tenant, flow=flow, revision=revision, state="PAUSED"
    )
    run = apps.get_model("flows", "TaskRun").objects.create(
        execution=execution, path="ask", task_id="ask", task_type=task["type"]
    )
    token = apps.get_model("flows", "SuspensionToken").objects.create(
        tenant=tenant, execution=execution, task_run=run, assignees=names
    )
    return token.pk
