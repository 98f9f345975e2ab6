"""Screens for people, in a real browser: the error summary, times in the viewer's
zone, the flows page and the profile page, at 1280 px and 390 px."""

import re

import pytest

from flows import engine, loader
from flows.models import SuspensionToken
from tests.browser.conftest import SCREENSHOTS, SERIOUS
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


def sign_in_on(page, live_server, username: str):
    page.goto(f"{live_server.url}/approvals/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-correct-horse")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


@pytest.fixture
def screenshot_of():
    def take(page, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


def axe_of(page, label: str):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not bad, f"{label}: {[v['id'] for v in bad]}"


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
    message = page.locator("#message-heading + .markdown")
    assert message.locator("strong").inner_text() == "40 EUR"
    assert message.locator("li").all_inner_texts() == [
        "receipt attached",
        "customer since 2019",
    ]
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


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_times_follow_the_browser_zone_and_the_profile_page_changes_it(
    browser, live_server, waiting, screenshot_of, viewport, name
):
    context = browser.new_context(viewport=viewport, timezone_id="America/New_York")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_on(page, live_server, "manager")  # the login page sets the cookie
        page.goto(f"{live_server.url}/approvals/{waiting.pk}/")
        waiting_since = page.locator("p.text-body-secondary time").first
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T", waiting_since.inner_text()
        )
        note = page.locator("#time-zone-note").inner_text()
        assert "Times are shown in America/New_York (your browser's zone)." in note
        screenshot_of(page, f"answer-new-york-{name}")

        page.get_by_role("link", name="Change").click()
        assert page.get_by_text("Your browser says its zone is America/New_York.")
        screenshot_of(page, f"profile-{name}")
        axe_of(page, f"profile ({name})")
        page.get_by_label("Time zone").select_option("Asia/Tokyo")
        page.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert page.get_by_text("Times are now shown in Asia/Tokyo.").is_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "the page scrolls sideways"
        page.goto(f"{live_server.url}/approvals/{waiting.pk}/")
        assert waiting_since.inner_text().endswith(" JST")
    finally:
        context.close()


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_the_flows_page_shows_descriptions_and_yaml_and_fits_a_phone(
    page, live_server, waiting, sign_in, screenshot, axe_check, viewport, name
):
    tenant = waiting.execution.tenant
    loader.load_flow(tenant, REFUND.replace("format: paid", "format: refunded"))
    long_name = REFUND.replace("id: refund", "id: " + "quarterly_refund_" * 4)
    loader.load_flow(tenant, long_name)
    page.set_viewport_size(viewport)
    sign_in("manager")
    page.goto(f"{live_server.url}/flows/")
    description = page.locator("td.flow-description").first
    assert description.locator("strong").inner_text() == "over 20 EUR"
    link = description.get_by_role("link", name="the policy")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the flows page scrolls sideways"
    screenshot(f"flows-{name}")
    axe_check(f"flows page ({name})")

    page.get_by_role("link", name="YAML of acme.finance.refund revision 2").click()
    assert "format: refunded" in page.locator("body").inner_text()


CONTRAST = """(element) => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = (text) => {
    const [r, g, b] = rgb(text).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ring = getComputedStyle(element);
  const bar = getComputedStyle(element.closest("nav"));
  const [a, b] = [luminance(ring.outlineColor), luminance(bar.backgroundColor)];
  return {
    ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
    width: parseFloat(ring.outlineWidth),
    style: ring.outlineStyle,
  };
}"""


def test_the_navbar_focus_ring_has_3_to_1_contrast_and_no_request_404s(
    page, live_server, waiting, sign_in, screenshot
):
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    sign_in("manager")
    page.goto(f"{live_server.url}/flows/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('nav-link')"):
            break
    focused = page.evaluate_handle("document.activeElement")
    ring = page.evaluate(CONTRAST, focused)
    assert ring["style"] == "solid" and ring["width"] >= 2
    assert ring["ratio"] >= 3, ring
    screenshot("navbar-focus")
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).ok
    assert page.request.get(f"{live_server.url}/favicon.ico").ok  # follows to the SVG
    assert not failed, failed


@pytest.mark.parametrize(("viewport", "name"), VIEWPORTS)
def test_the_500_page_is_styled(
    page, live_server, settings, screenshot, axe_check, viewport, name
):
    settings.ROOT_URLCONF = "tests.raising_urls"
    page.set_viewport_size(viewport)
    response = page.goto(f"{live_server.url}/broken/")
    assert response.status == 500
    assert page.get_by_role("heading", name="Something went wrong").is_visible()
    background = page.evaluate(
        "getComputedStyle(document.querySelector('nav')).backgroundColor"
    )
    assert background == "rgb(33, 37, 41)"  # Bootstrap and signoff.css loaded
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(f"server-error-{name}")
    axe_check(f"500 page ({name})")


def test_without_javascript_times_are_utc_named_and_the_summary_is_on_top(
    browser, live_server, waiting, screenshot_of
):
    context = browser.new_context(
        viewport=PHONE, timezone_id="America/New_York", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in_on(page, live_server, "manager")
        page.goto(f"{live_server.url}/approvals/{waiting.pk}/")
        assert (
            page.locator("p.text-body-secondary time")
            .first.inner_text()
            .endswith(" UTC")
        )
        assert "Times are shown in UTC." in page.locator("#time-zone-note").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name="Approve").click()
        assert page.title().startswith("Error: ")
        assert in_viewport(page, "[data-error-summary]")  # the page opens at the top
        screenshot_of(page, "error-summary-no-js-phone")
    finally:
        context.close()
