"""The Content-Security-Policy blocks nothing the pages need (real Chromium)."""

from pathlib import Path

import pytest
from django.conf import settings

from flows import engine, loader
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(settings.BASE_DIR) / "flows" / "examples"


@pytest.fixture
def violations(page):
    """Console messages Chromium writes when the policy refuses something."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return seen


def test_pages_admin_and_swagger_ui_run_under_the_policy(
    page, live_server, sign_in, violations, http_sink
):
    tenant = TenantFactory(slug="demo", name="Demo")
    UserFactory(username="root", tenants=[tenant], is_staff=True, is_superuser=True)
    flow = loader.load_flow(
        tenant, (EXAMPLES / "vacation_approval_process.yaml").read_text()
    ).flow
    execution = engine.start_execution(flow, {})
    sign_in("root")
    for path in (
        "/approvals/",
        "/executions/",
        f"/executions/{execution.id}/",
        "/flows/",
        "/flows/company.team/vacation_approval_process/start",
        "/admin/",
        "/admin/flows/execution/",
        "/admin/auth/user/add/",
    ):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    page.goto(live_server.url + "/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Signoff API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()  # the schema loaded and rendered
    assert page.locator(".opblock").count() > 5
    assert violations == []
