"""An execution whose tasks are a tree, as its page shows it in a real browser."""

import pytest

from flows import engine, loader
from flows.models import SuspensionToken
from tests.factories import TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TREE = """
id: review_batch
namespace: acme.docs
tasks:
  - id: each_doc
    type: ForEach
    values: ["contract", "invoice"]
    concurrencyLimit: 0
    tasks:
      - id: kind
        type: If
        condition: "{{ taskrun.value == 'contract' }}"
        then:
          - id: legal_check
            type: Pause
            screen: approval
            message: "Check the contract"
        else:
          - id: filed
            type: Return
            format: "filed {{ taskrun.value }}"
  - id: done
    type: Return
    format: "{{ outputs.legal_check['contract'].decision }}"
"""


@pytest.mark.parametrize(
    ("width", "name"), [(1280, "execution-tree"), (390, "execution-tree-phone")]
)
def test_the_execution_page_shows_the_task_tree_by_path(
    page, live_server, sign_in, screenshot, axe_check, width, name
):
    tenant = TenantFactory(slug="demo", name="Demo")
    UserFactory(username="manager", tenants=[tenant])
    flow = loader.load_flow(tenant, TREE).flow
    execution = engine.start_execution(flow, {})
    engine.advance(execution.pk)
    token = SuspensionToken.objects.get(execution=execution)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in("manager")
    page.goto(f"{live_server.url}/approvals/{token.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    engine.advance(execution.pk)  # the continuation, as a worker would run it
    page.goto(f"{live_server.url}/executions/{execution.pk}/")

    timeline = page.locator("#timeline")
    paths = timeline.locator("h3 code").all_inner_texts()
    assert "each_doc.0.kind.then.legal_check" in paths
    assert "each_doc.1.kind.else.filed" in paths and paths[-1] == "done"
    nested = timeline.locator("li.task-depth-2").first
    assert nested.bounding_box()["x"] > timeline.locator("li").first.bounding_box()["x"]
    assert page.locator("#execution-state").inner_text() == "SUCCESS"
    no_scroll = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_scroll), "the page scrolls sideways"
    screenshot(name)
    axe_check(f"{name}: execution page")
