"""A one-click link from the mail, in a real browser: sign in, see, approve once."""

import pytest
from django.core import mail

from approvals.models import Answer
from flows import engine, loader
from flows.models import SuspensionToken
from tests.factories import TenantFactory, UserFactory
from tests.notify_support import links_in, path_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVOICE = """
id: invoice
namespace: acme.finance
tasks:
  - id: sign
    type: Pause
    screen: approval
    assignees: {users: [manager]}
    message: "Pay invoice 2042-17: 1,200 EUR to ACME Ltd?"
    pauseDuration: P2D
  - id: pay
    type: Return
    format: paid
"""


@pytest.mark.parametrize(
    ("viewport", "name"),
    [
        ({"width": 1280, "height": 900}, "one-click-link"),
        ({"width": 390, "height": 844}, "one-click-link-phone"),
    ],
)
def test_a_mailed_link_signs_in_shows_the_screen_and_approves_once(
    page, live_server, screenshot, axe_check, viewport, name
):
    tenant = TenantFactory(slug="demo", name="Demo")
    UserFactory(username="manager", tenants=[tenant])
    requester = UserFactory(username="employee", tenants=[tenant])
    flow = loader.load_flow(tenant, INVOICE).flow
    execution = engine.start_execution(flow, {}, actor=requester)
    engine.advance(execution.pk)
    [message] = mail.outbox
    link = live_server.url + path_of(links_in(message)[0])
    page.set_viewport_size(viewport)

    page.goto(link)  # anonymous: the login page, then back to the link
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("pw-correct-horse")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == link
    assert page.get_by_text("Pay invoice 2042-17").is_visible()
    approve = page.get_by_role("button", name="Approve")
    assert approve.is_visible()
    screenshot(name)
    axe_check(name)

    approve.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/executions/{execution.pk}/")
    assert page.get_by_text("Approved — the execution is resuming.").is_visible()
    screenshot(f"{name}-answered")
    answer = Answer.objects.get()
    assert (answer.user.username, answer.channel) == ("manager", "email")
    assert SuspensionToken.objects.get().state == SuspensionToken.State.RESUMED

    page.goto(link)  # used up
    assert page.get_by_role("heading", name="This link was already used").is_visible()
    screenshot(f"{name}-used")
    axe_check(f"{name}-used")
