"""The inbox in Chromium: cards on a phone, a bulk answer, pages that update
themselves, and everything still working with JavaScript off."""

import re

import pytest
from django.utils import timezone

from flows import engine, loader
from flows.models import Execution, SuspensionToken
from tests.api_support import client_for, resume_url
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Reimburse-the-conference-travel-of-the-whole-platform-team-" * 3
FLOW = """
id: expenses-with-a-rather-long-identifier-for-phones
namespace: acme.finance.department.of-long-names
summary: "{{ inputs.who }} · {{ inputs.amount }} EUR · {{ inputs.why }}"
inputs:
  - id: who
    type: STRING
  - id: amount
    type: INT
  - id: why
    type: STRING
tasks:
  - id: approve
    type: Pause
    screen: approval
    pauseDuration: P2D
    assignees:
      users: [manager]
"""
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def office():
    tenant = TenantFactory(slug="demo", name="Demo")
    manager = UserFactory(username="manager", tenants=[tenant])
    employee = UserFactory(username="employee", tenants=[tenant])
    flow = loader.load_flow(tenant, FLOW).flow
    for who in ("Grace", "Ada", "Linus", "Barbara"):
        inputs = {"who": who, "amount": 1200, "why": LONG}
        engine.start_execution(flow, inputs, actor=employee)
    return tenant, manager, employee, flow


@pytest.fixture
def csp_violations(page):
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def assert_no_sideways_scroll(page, label):
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] == widths[1], f"{label} scrolls sideways: {widths}"


def test_lists_are_tables_wide_and_cards_on_a_phone_without_sideways_scroll(
    page, live_server, office, sign_in, screenshot, axe_check, csp_violations
):
    tenant, manager, employee, flow = office
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/")
    assert page.locator("th .summary", has_text="Grace · 1200 EUR").count() == 1
    assert page.locator("table.table-cards thead").is_visible()
    screenshot("inbox-1280")
    axe_check("inbox 1280")
    page.set_viewport_size(PHONE)
    for path, name in [
        ("/approvals/", "inbox-390"),
        ("/executions/", "executions-390"),
    ]:
        page.goto(live_server.url + path)
        assert_no_sideways_scroll(page, path)
        row = page.locator("table.table-cards tbody tr").first
        assert row.evaluate("r => getComputedStyle(r).display") == "block"
        screenshot(name)
        axe_check(name)
    sign_in("employee")
    page.goto(f"{live_server.url}/approvals/?tab=started")
    assert page.locator("table.table-cards tbody tr").count() == 4
    assert_no_sideways_scroll(page, "I started")
    screenshot("inbox-started-390")
    axe_check("inbox started 390")
    assert csp_violations == []


def test_bulk_answer_approves_the_selected_and_lists_each_result(
    page, live_server, office, sign_in, screenshot, axe_check, csp_violations
):
    tenant, manager, employee, flow = office
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/")
    page.get_by_label(re.compile("Select request 1:")).check()
    page.get_by_label(re.compile("Select request 2:")).check()
    page.get_by_label(re.compile("Select request 3:")).check()
    page.get_by_label("Comment (for each)").fill("Approved in one go")
    screenshot("inbox-bulk-selected")
    # The third one's deadline passes while the page is open.
    third = page.locator("input[name=tokens]").nth(2).get_attribute("value")
    SuspensionToken.objects.filter(pk=third).update(expires_at=timezone.now())
    page.get_by_role("button", name="Approve selected").click()
    page.wait_for_load_state()
    assert "/approvals/bulk" in page.url
    assert page.get_by_text("2 answered, 1 refused.").count() == 1
    assert page.locator("#bulk-results .badge", has_text="Done").count() == 2
    refused = page.locator("#bulk-results .bulk-refused")
    assert "Expired: its deadline passed on" in refused.inner_text()
    screenshot("bulk-result-1280")
    axe_check("bulk result")
    resumed = SuspensionToken.objects.filter(state="RESUMED")
    assert resumed.count() == 2
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_sideways_scroll(page, "bulk result")
    screenshot("bulk-result-390")
    assert csp_violations == []


def test_execution_page_and_inbox_update_on_their_own_after_an_api_resume(
    page, live_server, office, sign_in, screenshot, csp_violations
):
    tenant, manager, employee, flow = office
    token = SuspensionToken.objects.order_by("created_at").first()
    sign_in("manager")
    page.goto(f"{live_server.url}/executions/{token.execution_id}/")
    assert page.locator("#execution-state").inner_text() == "PAUSED"
    page.evaluate("window.notReloaded = true")
    api = client_for(manager)
    answered = api.post(resume_url(token.pk), {"decision": "Approved"}, format="json")
    assert answered.status_code == 202
    page.locator("#execution-state", has_text="SUCCESS").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded") is True  # swapped in, not reloaded
    screenshot("execution-updated-live")

    page.goto(f"{live_server.url}/approvals/")
    assert page.locator("#inbox-live tbody tr").count() == 3
    assert page.locator("#inbox-count").inner_text().startswith("3")
    page.evaluate("window.notReloaded = true")
    page.get_by_label(re.compile("Select request 1:")).check()
    page.get_by_label("Comment (for each)").fill("half typed")
    engine.start_execution(flow, {"who": "Katherine", "amount": 9, "why": "x"})
    page.locator("th .summary", has_text="Katherine · 9 EUR").wait_for(timeout=15_000)
    assert page.locator("#inbox-count").inner_text().startswith("4")
    assert page.evaluate("window.notReloaded") is True
    # What the person was doing survives the swap.
    assert page.locator("input[name=tokens]:checked").count() == 1
    assert page.get_by_label("Comment (for each)").input_value() == "half typed"
    screenshot("inbox-updated-live")
    assert csp_violations == []


def test_inbox_search_tabs_and_bulk_work_with_javascript_off(
    browser, live_server, office
):
    tenant, manager, employee, flow = office
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/approvals/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("pw-correct-horse")
    page.locator("main form button[type=submit], main form input[type=submit]").click()
    page.wait_for_load_state()
    page.get_by_label("Search", exact=True).fill("linus")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert page.locator("tbody tr").count() == 1
    page.get_by_role("link", name="Select all on this page").click()
    page.wait_for_load_state()
    assert page.locator("input[name=tokens]:checked").count() == 1
    page.get_by_role("button", name="Reject selected").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 answered.").count() == 1
    page.screenshot(path=str(_shot("bulk-nojs-390")), full_page=True)
    rejected = Execution.objects.get(inputs__who="Linus")
    assert rejected.state == "CANCELLED"
    page.get_by_role("link", name="Back to the inbox").click()
    page.get_by_role("link", name="I answered").click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("Rejected by manager")).count() == 1
    page.get_by_role("link", name=re.compile("Linus")).click()
    page.wait_for_load_state()
    assert page.locator("#execution-state").inner_text() == "CANCELLED"
    context.close()


def _shot(name):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_the_nav_badge_updates_on_its_own_on_other_pages(
    page, live_server, office, sign_in, screenshot, csp_violations, settings
):
    settings.SIGNOFF_BADGE_POLL_SECONDS = 1
    tenant, manager, employee, flow = office
    waiting = SuspensionToken.objects.filter(state="WAITING").count()
    sign_in("manager")
    page.goto(f"{live_server.url}/executions/")
    badge = page.locator("#inbox-count")
    assert badge.inner_text().startswith(str(waiting))
    page.evaluate("window.notReloaded = true")
    engine.start_execution(flow, {"who": "Katherine", "amount": 9, "why": "x"})
    page.locator("#inbox-count", has_text=str(waiting + 1)).wait_for(timeout=10_000)
    assert page.evaluate("window.notReloaded") is True  # swapped in, not reloaded
    assert page.locator("#inbox-count").count() == 1
    screenshot("badge-updated-live-1280")
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.locator("#inbox-count").inner_text().startswith(str(waiting + 1))
    screenshot("badge-updated-live-390")
    assert csp_violations == []
