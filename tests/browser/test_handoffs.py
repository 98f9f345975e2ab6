"""Handing a request on, and withdrawing one, in a real browser at 1280 and 390 px."""

import pytest

from flows.models import Execution, SuspensionToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = [(DESKTOP, "desktop"), (PHONE, "phone")]


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(("viewport", "size"), SIZES)
def test_an_assignee_hands_the_request_to_a_colleague(
    page, live_server, leave, sign_in, screenshot, axe_check, viewport, size
):
    token = leave()
    page.set_viewport_size(viewport)
    sign_in("ann")
    page.goto(f"{live_server.url}/approvals/{token.pk}/")
    form = page.locator("#delegate")
    assert form.get_by_role("heading", name="Hand to someone else").is_visible()
    form.get_by_label("Hand to").fill("bob")
    form.get_by_label("Note (optional)").fill("on leave")
    form.scroll_into_view_if_needed()
    screenshot(f"delegate-form-{size}")
    axe_check(f"answer screen with the hand-over form ({size})")
    assert no_sideways_scroll(page)
    with page.expect_navigation():
        form.get_by_role("button", name="Hand it on").click()

    assert page.url.endswith(f"/executions/{token.execution_id}/")
    assert page.get_by_text("Handed to bob; it has left your inbox.").is_visible()
    trail = page.locator("#events")
    assert trail.get_by_text("Delegated by ann to bob: on leave").count() == 1
    trail.scroll_into_view_if_needed()
    screenshot(f"delegated-execution-{size}")
    axe_check(f"execution page after a hand-over ({size})")
    assert no_sideways_scroll(page)
    token.refresh_from_db()
    assert token.assignees["users"] == ["bob"]


@pytest.mark.parametrize(("viewport", "size"), SIZES)
def test_the_requester_withdraws_after_confirming(
    page, live_server, leave, sign_in, screenshot, axe_check, viewport, size
):
    token = leave()
    page.set_viewport_size(viewport)
    sign_in("emp")
    page.goto(f"{live_server.url}/executions/{token.execution_id}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Withdraw request").click()

    assert page.get_by_role("heading", name="Withdraw this request?").is_visible()
    assert SuspensionToken.objects.get(pk=token.pk).state == "WAITING"
    page.get_by_label("Why (optional)").fill("no longer needed")
    screenshot(f"withdraw-confirm-{size}")
    axe_check(f"withdrawal confirmation ({size})")
    assert no_sideways_scroll(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Withdraw request").click()

    assert page.locator("#execution-state").inner_text() == "CANCELLED"
    banner = page.locator("#execution-ending")
    assert banner.inner_text() == "Cancelled — withdrawn by emp: no longer needed"
    assert page.get_by_text("Withdrawn: the request is cancelled.").is_visible()
    assert page.get_by_role("link", name="Withdraw request").count() == 0
    screenshot(f"withdrawn-execution-{size}")
    axe_check(f"execution page after a withdrawal ({size})")
    assert no_sideways_scroll(page)
    execution = Execution.objects.get(pk=token.execution_id)
    assert execution.state == Execution.State.CANCELLED
