"""Screens for people, in a real browser: the error summary, times in the viewer's
zone, the flows page and the profile page, at 1280 px and 390 px."""

import pytest

from flows import engine, loader
from flows.models import SuspensionToken
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFUND = """
id: refund
namespace: acme.finance
description: |
  Refunds **over 20 EUR** need a second look.
  See [the policy](https://example.com/policy).
tasks:
  - id: sign
    type: Pause
    screen: approval
    message: |
      Refund **40 EUR** to Grace?

      - receipt attached
      - customer since 2019
    pauseDuration: PT2H
    onResume:
      - id: reference
        type: STRING
        description: The ticket number
  - id: pay
    type: Return
    format: paid
"""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = [(DESKTOP, "desktop"), (PHONE, "phone")]
NO_SIDEWAYS_SCROLL = (
    "document.documentElement.scrollWidth === document.documentElement.clientWidth"
)


@pytest.fixture
def waiting():
    tenant = TenantFactory(slug="demo", name="Demo")
    UserFactory(username="manager", tenants=[tenant])
    employee = UserFactory(username="employee", tenants=[tenant])
    flow = loader.load_flow(tenant, REFUND).flow
    execution = engine.start_execution(flow, {}, actor=employee)
    engine.advance(execution.pk)
    return SuspensionToken.objects.get(execution=execution)


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
          const box = document.querySelector(selector).getBoundingClientRect();
          return box.top >= 0 && box.bottom <= window.innerHeight;
        }""",
        selector,
    )


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_a_failed_approve_shows_the_error_summary_focused(
    page, live_server, waiting, sign_in, screenshot, axe_check, viewport, name
):
    page.set_viewport_size(viewport)
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/{waiting.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()

    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.dataset.errorSummary === ''")
    assert in_viewport(page, "[data-error-summary]"), "the summary is off screen"
    screenshot(f"error-summary-{name}")
    axe_check(f"error summary ({name})")

    summary.get_by_role("link", name="Reference: ").click()
    assert page.evaluate("document.activeElement.id") == "id_reference"
    assert in_viewport(page, "#id_reference")
    waiting.refresh_from_db()
    assert waiting.state == "WAITING"
