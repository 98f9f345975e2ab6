"""People in a real browser: file a vacation request, answer each kind of screen."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from flows import engine, loader
from flows.models import Execution, SuspensionToken
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(settings.BASE_DIR) / "flows" / "examples"

SCREENS = """
id: screens
namespace: acme.screens
inputs:
  - id: amount
    type: INT
    defaults: 1200
tasks:
  - id: report
    type: Return
    format: "Quarterly spend is {{ inputs.amount }} EUR"
  - id: approval
    type: Pause
    screen: approval
    message: "Approve the spend of {{ inputs.amount }} EUR?"
    pauseDuration: P2D
  - id: review
    type: Pause
    screen: review
    message: "Read the report: {{ outputs.report.value }}"
  - id: bare
    type: Pause
"""


@pytest.fixture
def people():
    tenant = TenantFactory(slug="demo", name="Demo")
    managers = Group.objects.create(name="managers")
    manager = UserFactory(username="manager", tenants=[tenant])
    manager.groups.add(managers)
    employee = UserFactory(username="employee", tenants=[tenant])
    return tenant, manager, employee


def test_manager_resumes_the_vacation_request_and_it_finishes(
    page, live_server, people, sign_in, screenshot, axe_check, http_sink
):
    tenant, manager, employee = people
    source = (EXAMPLES / "vacation_approval_process.yaml").read_text()
    loader.load_flow(tenant, source)

    sign_in("employee")
    page.goto(f"{live_server.url}/flows/company.team/vacation_approval_process/start")
    page.get_by_label("Name").fill("Grace Hopper")
    screenshot("start-vacation-request")
    axe_check("start page")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    execution = Execution.objects.get()
    assert str(execution.pk) in page.url
    assert execution.inputs["request"]["name"] == "Grace Hopper"
    execution.refresh_from_db()
    assert execution.state == "PAUSED"

    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/")
    assert page.get_by_text("company.team.vacation_approval_process").count() >= 1
    screenshot("inbox")
    axe_check("inbox")
    page.get_by_role("link", name=re.compile("Open")).first.click()
    page.wait_for_load_state()
    assert page.get_by_text("Grace Hopper").count() >= 1  # the request is shown
    page.get_by_label("Reason").fill("Enjoy the break")
    screenshot("screen-form")
    axe_check("form screen")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_load_state()

    execution.refresh_from_db()
    assert execution.state == "SUCCESS"
    assert page.get_by_text("SUCCESS").count() >= 1
    screenshot("execution-after-resume")
    axe_check("execution page")
    log = execution.task_runs.get(task_id="log")
    assert "Status is Enjoy the break" in log.logs[0]["message"]
    assert [path for _, path, _ in http_sink.received] == [
        "/api/slack",
        "/api/products",
    ]


def test_each_screen_kind_can_be_answered_from_the_keyboard(
    page, live_server, people, sign_in, screenshot, axe_check
):
    tenant, manager, employee = people
    flow = loader.load_flow(tenant, SCREENS).flow
    execution = engine.start_execution(flow, {}, actor=employee)
    engine.advance(execution.pk)
    sign_in("manager")

    for kind, answer in (("approval", "Approve"), ("review", None), ("resume", None)):
        token = SuspensionToken.objects.get(execution=execution, state="WAITING")
        assert token.screen == kind
        page.goto(f"{live_server.url}/approvals/{token.pk}/")
        screenshot(f"screen-{kind}")
        axe_check(f"{kind} screen")
        if kind == "review":
            page.get_by_label(re.compile("reviewed", re.I)).check()
        button = page.get_by_role("button", name=answer or "Resume")
        button.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        token.refresh_from_db()
        assert token.state == "RESUMED", kind
        engine.advance(execution.pk)

    execution.refresh_from_db()
    assert execution.state == "SUCCESS"
    approval = execution.task_runs.get(task_id="approval")
    assert approval.outputs["decision"] == "Approved"
    assert approval.outputs["resumed"]["by"] == "manager"
