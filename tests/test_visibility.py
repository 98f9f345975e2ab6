"""Need-to-know: who sees an execution, and that nobody else sees anything of it.

The sweep walks every URL pattern of the site (Django's resolver, the API and the
admin included) as a member of the tenant who has no reason to see another
member's executions, with each path parameter filled with those executions' and
tokens' ids: every answer is the one a made-up id gets, and no body holds an id
or an input of theirs. Then one test per way of seeing.
"""

import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils.regex_helper import normalize

from approvals import access, answers
from flows import engine, loader
from flows.models import Execution, SuspensionToken
from tests.api_support import client_for
from tests.factories import TenantFactory, UserFactory, give_permissions
from tests.page_support import badge_of

EXAMPLES = Path(__file__).resolve().parents[1] / "flows" / "examples"
NOTE = "Payroll-Secret-7741"
PAYROLL = """
id: payroll
namespace: acme.hr
inputs:
  - id: note
    type: STRING
tasks:
  - id: review
    type: Pause
    message: "Check {{ inputs.note }}"
    assignees:
      users: [dave]
      groups: [hr]
  - id: done
    type: Return
    format: "{{ inputs.note }} checked"
"""
SPLIT = """
id: payroll_split
namespace: acme.hr
inputs:
  - id: note
    type: STRING
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: left
        type: Pause
        message: "Left {{ inputs.note }}"
        assignees: {users: [dave]}
      - id: right
        type: Pause
        assignees: {users: [dave]}
"""
OPEN = """
id: open_door
namespace: acme.ops
inputs:
  - id: note
    type: STRING
tasks:
  - id: wait
    type: Pause
"""
# Query strings tried on every route without an id: each filter of the lists.
QUERIES = ("", "?namespace=acme.hr&flow=payroll&state=PAUSED", "?mine=1&state=PAUSED")


@pytest.fixture
def people(tenant):
    hr = Group.objects.create(name="hr")
    people = {
        name: UserFactory(username=name, tenants=[tenant])
        for name in ("carol", "dave", "hank", "eve")
    }
    people["hank"].groups.add(hr)
    return people


@pytest.fixture
def start(make_flow, run_on_commit):
    flows = {}

    def start(source, actor, note=NOTE) -> Execution:
        if source not in flows:
            flows[source] = make_flow(source)
        return run_on_commit(
            engine.start_execution, flows[source], {"note": note}, actor=actor
        )

    return start


def resume(user, token, run_on_commit):
    values = answers.validate(token, {})
    return run_on_commit(answers.answer, user, token, values, channel="web")


def waiting_token(execution) -> SuspensionToken:
    return SuspensionToken.objects.select_related("execution").get(
        execution=execution, state=SuspensionToken.State.WAITING
    )


@pytest.fixture
def carols(people, start, run_on_commit):
    """Carol's executions: one waiting for dave or hr, one dave answered, one
    waiting on two pauses at once; with the ids nobody else may learn."""
    carol, dave = people["carol"], people["dave"]
    waiting = start(PAYROLL, carol)
    answered = start(PAYROLL, carol)
    resume(dave, waiting_token(answered), run_on_commit)
    split = start(SPLIT, carol)
    tokens = list(SuspensionToken.objects.filter(execution__created_by=carol))
    assert len(tokens) == 4
    ids = [str(e.pk) for e in (waiting, answered, split)]
    ids += [str(t.pk) for t in tokens]
    return {
        "waiting": waiting,
        "answered": answered,
        "split": split,
        "ids": ids,
        "secrets": [NOTE, *ids, *(i[:8] for i in ids)],
    }


# ------------------------------------------------------------------ the sweep


def url_patterns(resolver=None, prefix="", namespace=""):
    """(URL template with {param}, its params, its name) for every pattern."""
    for entry in (resolver or get_resolver()).url_patterns:
        piece = _template(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, (namespace, entry.namespace)))
            yield from url_patterns(entry, prefix + piece, inner)
        else:
            template = prefix + piece
            params = re.findall(r"\{(\w+)\}", template)
            name = ":".join(filter(None, (namespace, entry.name or "")))
            yield template, params, name


def _template(pattern) -> str:
    """A pattern as text with {param} holes (route or regex, as reverse() sees it)."""
    text, _ = normalize(pattern.regex.pattern)[0]
    return re.sub(r"%\((\w+)\)s", r"{\1}", text)


def named_values(flow) -> dict[str, str]:
    """Path parameters that name something other than an execution or a token."""
    return {
        "namespace": flow.namespace,
        "flow_id": flow.flow_id,
        "tenant": flow.tenant.slug,
        "app_label": "flows",
        "content_type_id": str(ContentType.objects.get_for_model(Execution).pk),
    }


def fill(template, target, flow) -> str:
    """The URL with every id parameter set to `target`, the others to `flow`'s."""
    values = named_values(flow)
    return "/" + re.sub(
        r"\{(\w+)\}", lambda m: values.get(m.group(1), target), template
    ).lstrip("/")


def comparable(body: str, target: str) -> str:
    """A body without what differs from one request to the next anyway."""
    body = re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1", body)
    return body.replace(target, "<id>")


def body_of(response) -> str:
    if getattr(response, "streaming", False):  # read no further than the start
        return b"".join(list(response.streaming_content)[:1]).decode(errors="replace")
    return response.content.decode(errors="replace")


class Visitor:
    """Requests as one user: the API with their bearer key, pages signed in."""

    def __init__(self, user):
        self.user, self.api, self.browser = user, client_for(user), Client()

    def send(self, method: str, url: str):
        if url.startswith("/api/"):
            return getattr(self.api, method)(url, {}, format="json")
        self.browser.force_login(self.user)  # again: a route may have logged out
        return getattr(self.browser, method)(url, {})


def leaks(body: str, secrets) -> list[str]:
    return [secret for secret in secrets if secret in body]


def test_a_member_with_no_reason_to_see_finds_nothing_anywhere(people, carols):
    eve = Visitor(people["eve"])
    flow = carols["waiting"].flow
    visited = set()
    for template, params, name in url_patterns():
        visited.add(name)
        has_id = any(param not in named_values(flow) for param in params)
        if template.startswith("admin/"):
            check_admin(eve, template, has_id, carols)
        elif has_id and name.startswith(("approvals:", "api:")):
            check_with_ids(eve, template, carols)
        else:  # Signoff's lists, and django.contrib.auth's pages (no executions)
            check_without_ids(eve, template, name, carols)
    assert {
        "approvals:inbox",
        "approvals:answer",
        "approvals:executions",
        "approvals:execution",
        "api:executions",
        "api:execution",
        "api:execution-status",
        "api:resume",
        "api:suspensions",
        "api:suspension",
        "admin:flows_execution_change",
    } <= visited
    # the start routes got no inputs (`note` is required): eve started nothing
    assert not Execution.objects.filter(created_by=people["eve"]).exists()
    for execution in ("waiting", "split"):
        carols[execution].refresh_from_db()
        assert carols[execution].state == Execution.State.PAUSED  # nothing answered


def check_with_ids(eve, template, carols):
    """Each of Carol's ids gets what a made-up id gets: 404, or 405 for a method
    the route does not have; the same body, and none of her data."""
    flow = carols["waiting"].flow
    for method in ("get", "post"):
        made_up = str(uuid.uuid4())
        baseline = eve.send(method, fill(template, made_up, flow))
        expected = comparable(body_of(baseline), made_up)
        assert baseline.status_code in (404, 405), (method, template)
        for target in carols["ids"]:
            url = fill(template, target, flow)
            response = eve.send(method, url)
            body = body_of(response)
            assert response.status_code == baseline.status_code, (method, url)
            assert comparable(body, target) == expected, (method, url)
            assert not leaks(body.replace(url, ""), carols["secrets"]), (method, url)


def check_without_ids(eve, template, name, carols):
    flow = carols["waiting"].flow
    for query in QUERIES:
        for method in ("get", "post"):
            url = fill(template, carols["ids"][0], flow) + query
            response = eve.send(method, url)
            body = body_of(response)
            assert response.status_code < 500, (method, url)
            assert not leaks(body.replace(url, ""), carols["secrets"]), (method, url)
            if method == "get" and response.status_code == 200:
                check_empty(name, response, body)


def check_empty(name, response, body):
    """The lists and the badge hold nothing of Carol's: eve may answer nothing."""
    if name in ("api:executions", "api:suspensions"):
        assert response.json()["count"] == 0 and response.json()["results"] == []
    if badge_of(body) is not None:
        assert badge_of(body) == "0", name
    if name == "approvals:executions":
        assert "No executions" in body
    if name == "approvals:inbox":
        assert not response.context["page"].object_list


def check_admin(eve, template, has_id, carols):
    """The admin is for staff: a member who is not is sent to its login."""
    flow = carols["waiting"].flow
    target = carols["ids"][0]
    url = fill(template, target, flow)
    response = eve.send("get", url)
    assert not leaks(body_of(response), carols["secrets"]), url
    if has_id:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_the_sweep_would_see_a_leak(people, carols):
    """The same pages show Carol her own execution, so the markers are real."""
    carol = Visitor(people["carol"])
    execution = carols["waiting"]
    page = body_of(carol.send("get", f"/executions/{execution.pk}/"))
    status = body_of(carol.send("get", f"/api/executions/{execution.pk}/status"))
    listed = body_of(carol.send("get", "/executions/"))
    assert NOTE in page and NOTE in status and str(execution.pk)[:8] in listed


# ------------------------------------------------------------------ who sees


def sees(user, execution) -> bool:
    """The execution page, the API status and both lists agree for `user`."""
    page = Visitor(user).send("get", f"/executions/{execution.pk}/").status_code
    api = client_for(user)
    status = api.get(f"/api/executions/{execution.pk}/status").status_code
    listed = {e["executionId"] for e in api.get("/api/executions").json()["results"]}
    in_query = access.visible_executions(user).filter(pk=execution.pk).exists()
    verdicts = {page == 200, status == 200, str(execution.pk) in listed, in_query}
    assert len(verdicts) == 1, (page, status, listed, in_query)
    return verdicts.pop()


def test_the_starter_sees_their_execution(people, carols):
    assert sees(people["carol"], carols["waiting"])
    assert not sees(people["eve"], carols["waiting"])


def test_an_assigned_user_sees_it_while_it_waits_and_after(people, carols):
    assert sees(people["dave"], carols["waiting"])
    assert sees(people["dave"], carols["answered"])
    carols["answered"].refresh_from_db()
    assert carols["answered"].state == Execution.State.SUCCESS


def test_a_member_of_an_assigned_group_sees_it_while_they_are_in_it(people, carols):
    hank = people["hank"]
    assert sees(hank, carols["waiting"]) and sees(hank, carols["answered"])
    assert not sees(hank, carols["split"])  # assigned to dave alone
    hank.groups.clear()
    assert not sees(hank, carols["waiting"])


def test_who_answered_still_sees_it_after_leaving_the_group(
    people, start, run_on_commit
):
    hank = people["hank"]
    execution = start(PAYROLL, people["carol"])
    resume(hank, waiting_token(execution), run_on_commit)
    hank.groups.clear()
    assert sees(hank, execution)


def test_a_pause_without_assignees_is_open_so_every_member_sees_it(people, start):
    execution = start(OPEN, people["carol"])
    assert sees(people["eve"], execution)
    assert not sees(UserFactory(username="out", tenants=[TenantFactory()]), execution)


def test_the_permission_shows_every_execution_of_the_tenant_only(
    people, carols, tenant, start
):
    auditor = UserFactory(username="audrey", tenants=[tenant])
    give_permissions(auditor, "flows.view_execution")
    assert all(sees(auditor, carols[name]) for name in ("waiting", "split"))
    admin = UserFactory(username="root", tenants=[tenant], is_superuser=True)
    assert sees(admin, carols["answered"])
    elsewhere = UserFactory(username="other_auditor", tenants=[TenantFactory()])
    give_permissions(elsewhere, "flows.view_execution")
    assert not access.visible_executions(elsewhere).exists()


def test_a_group_can_hold_the_permission(people, carols):
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_execution"))
    people["eve"].groups.add(auditors)
    assert sees(people["eve"], carols["waiting"])


def test_seeing_is_not_answering_an_auditor_gets_403(people, carols, tenant):
    auditor = UserFactory(username="audrey", tenants=[tenant])
    give_permissions(auditor, "flows.view_execution")
    token = waiting_token(carols["waiting"])
    browser = Visitor(auditor)
    response = browser.send("post", f"/approvals/{token.pk}/")
    assert response.status_code == 403
    assert "Only dave or members of hr may answer this." in body_of(response)
    api = client_for(auditor)
    response = api.post(f"/api/executions/{token.pk}/resume", {}, format="json")
    assert response.status_code == 403
    unseen = Visitor(people["eve"]).send("get", f"/approvals/{token.pk}/")
    assert unseen.status_code == 404  # eve does not even see it


def test_resume_of_an_invisible_token_is_404_before_409_and_410(
    people, carols, monkeypatch
):
    eve = client_for(people["eve"])
    answered = SuspensionToken.objects.get(execution=carols["answered"])
    for target in (answered.pk, carols["answered"].pk, carols["split"].pk):
        response = eve.post(f"/api/executions/{target}/resume", {}, format="json")
        assert response.status_code == 404, target
        assert response.json() == {"detail": "No such suspension or execution."}
    dave = client_for(people["dave"])
    assert (
        dave.post(f"/api/executions/{answered.pk}/resume", {}, format="json")
    ).status_code == 409
    several = dave.post(
        f"/api/executions/{carols['split'].pk}/resume", {}, format="json"
    )
    assert several.status_code == 409 and len(several.json()["waiting"]) == 2


def test_mine_lists_what_i_started_or_answered(people, carols, start, client):
    dave = people["dave"]
    own = start(OPEN, dave)
    client.force_login(dave)
    everything = client.get("/executions/").context["page"].object_list
    mine = client.get("/executions/?mine=1").context["page"].object_list
    assert {e.pk for e in everything} == {
        own.pk,
        carols["waiting"].pk,
        carols["answered"].pk,
        carols["split"].pk,
    }
    assert {e.pk for e in mine} == {own.pk, carols["answered"].pk}
    assert "Mine: started or answered" in client.get("/executions/").content.decode()


def test_lists_stay_one_query_as_invisible_rows_grow(
    people, start, django_assert_max_num_queries
):
    eve, carol = people["eve"], people["carol"]
    start(OPEN, eve)
    api = client_for(eve)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/executions").json()["count"] == 1
    for _ in range(10):
        start(PAYROLL, carol)
    with django_assert_max_num_queries(len(few)):
        assert api.get("/api/executions").json()["count"] == 1


def test_the_demo_employee_does_not_see_another_employees_request(
    tenant, run_on_commit
):
    source = (EXAMPLES / "vacation_request_branching.yaml").read_text()
    flow = loader.load_flow(tenant, source).flow
    managers = Group.objects.create(name="managers")
    manager = UserFactory(username="manager", tenants=[tenant])
    manager.groups.add(managers)
    employee, colleague = (
        UserFactory(username=name, tenants=[tenant]) for name in ("employee", "bo")
    )
    request = {"request": {"name": "Grace", "start_date": "2042-07-01"}}
    request["request"]["end_date"] = "2042-07-07"
    execution = run_on_commit(engine.start_execution, flow, request, actor=employee)
    assert sees(employee, execution) and sees(manager, execution)
    assert not sees(colleague, execution)
