"""A rejection in a real browser: the flow stops and every page says why."""

import re

import pytest

from flows import engine, loader
from flows.models import Execution, SuspensionToken, TaskRun
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VACATION = """
id: days_off
namespace: acme.hr
tasks:
  - id: ask
    type: Pause
    screen: approval
    message: "Grace asks for Friday off."
  - id: book
    type: Return
    format: booked
"""
REFUND = """
id: refund
namespace: acme.finance
tasks:
  - id: sign
    type: Approval
    message: "Refund 40 EUR to Grace?"
    decisions: [Pay it, Refuse]
    commentRequired: ON_DENY
  - id: pay
    type: Return
    format: paid
"""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def people():
    tenant = TenantFactory(slug="demo", name="Demo")
    UserFactory(username="manager", tenants=[tenant])
    employee = UserFactory(username="employee", tenants=[tenant])
    return tenant, employee


def started(tenant, employee, source) -> Execution:
    flow = loader.load_flow(tenant, source).flow
    execution = engine.start_execution(flow, {}, actor=employee)
    engine.advance(execution.pk)
    return execution


@pytest.mark.parametrize(
    ("viewport", "name"),
    [(DESKTOP, "execution-rejected"), (PHONE, "execution-rejected-phone")],
)
def test_a_rejection_stops_the_flow_and_the_pages_say_so(
    page, live_server, people, sign_in, screenshot, axe_check, viewport, name
):
    tenant, employee = people
    execution = started(tenant, employee, VACATION)
    token = SuspensionToken.objects.get(execution=execution)
    page.set_viewport_size(viewport)
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/{token.pk}/")
    assert page.get_by_text("Choosing “Reject” stops this execution").is_visible()
    page.get_by_label("Comment").fill("not this week")
    screenshot(f"{name}-screen")
    axe_check(f"{name}: approval screen")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject").click()

    assert page.locator("#execution-state").inner_text() == "CANCELLED"
    banner = page.locator("#execution-ending")
    assert banner.inner_text() == "Cancelled — rejected by manager: not this week"
    assert banner.is_visible()
    assert page.get_by_text("Rejected — the execution was cancelled.").is_visible()
    outcome = page.locator("dd.outcome")
    assert outcome.inner_text() == "Rejected by manager: not this week"
    assert not TaskRun.objects.filter(execution=execution, task_id="book").exists()
    execution.refresh_from_db()
    assert execution.state == "CANCELLED"
    no_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_scroll), "the page scrolls sideways"
    screenshot(name)
    axe_check(f"{name}: execution page")

    page.goto(f"{live_server.url}/executions/")
    row = page.get_by_role("row", name=re.compile("days_off"))
    assert "Rejected by manager: not this week" in row.inner_text()
    screenshot(f"executions-{name}")
    axe_check(f"{name}: executions list")


def test_an_approval_task_shows_its_labels_and_asks_for_the_comment(
    page, live_server, people, sign_in, screenshot, axe_check
):
    tenant, employee = people
    execution = started(tenant, employee, REFUND)
    token = SuspensionToken.objects.get(execution=execution)
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/{token.pk}/")
    assert page.get_by_role("button", name="Pay it").is_visible()
    page.get_by_role("button", name="Refuse").click()
    page.wait_for_load_state()

    error = page.locator("#id_comment_error")
    assert error.inner_text() == "A comment is required when you choose “Refuse”."
    assert page.get_by_label("Comment").get_attribute("aria-invalid") == "true"
    token.refresh_from_db()
    assert token.state == "WAITING"
    screenshot("approval-task-screen")
    axe_check("approval task screen with a comment error")

    page.get_by_label("Comment").fill("no receipt")
    with page.expect_navigation():
        page.get_by_role("button", name="Refuse").click()
    assert page.get_by_text("Denied — the execution").is_visible()
    execution.refresh_from_db()
    assert execution.state == "CANCELLED"
    assert page.locator("#execution-ending").inner_text() == (
        "Cancelled — denied by manager: no receipt"
    )
    assert not TaskRun.objects.filter(execution=execution, task_id="pay").exists()
    screenshot("execution-denied")
