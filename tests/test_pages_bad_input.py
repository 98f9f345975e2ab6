"""No input reaches a 500 on a page: a bad request is a clear 400 page."""

import pytest
from django.urls import reverse

from flows.models import Execution
from tests.factories import UserFactory

FLOW = """
id: kinds
namespace: acme.ops
inputs:
  - id: title
    type: STRING
  - id: ratio
    type: FLOAT
    required: false
tasks:
  - id: only
    type: Return
    format: done
"""
START = "/flows/acme.ops/kinds/start"
NUL = "NUL characters (\\0) are not allowed."


@pytest.fixture
def signed_in(client, user, make_flow):
    make_flow(FLOW)
    client.force_login(user)
    client.raise_request_exception = False
    return client


def bad_request_page(response) -> str:
    """Assert the styled 400 page (the site's layout, not Django's bare one)."""
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<h1 class="h2">Bad request</h1>' in page
    assert 'id="refusal-detail"' in page and "signoff.css" in page
    return page


@pytest.mark.parametrize(
    "url",
    [
        "/executions/?state=PAUSED%00",
        "/approvals/?namespace=acme%00",
        f"{START}?tenant=acme%00",
        "/flows/acme%00/kinds/start",
        "/flows/acme.ops/kin%00ds/start",
    ],
)
def test_nul_in_a_query_value_or_url_is_a_400_page(signed_in, url):
    page = bad_request_page(signed_in.get(url))
    assert NUL in page


def test_nul_in_an_admin_search_is_a_400_page(client, tenant):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    bad_request_page(client.get("/admin/flows/execution/?q=x%00"))


def test_more_than_1000_query_parameters_is_a_400_page(signed_in):
    query = "&".join(f"p{i}=1" for i in range(1001))
    page = bad_request_page(signed_in.get(f"/executions/?{query}"))
    assert "Too many fields: at most 1,000 query parameters" in page


def test_a_10_mb_form_post_is_a_400_page(signed_in):
    response = signed_in.post(START, {"title": "x" * 10_000_000})
    page = bad_request_page(response)
    assert "The request body is too large" in page
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"title": "a\x00b"}, "title", NUL),
        ({"title": "ok", "ratio": "1" + "0" * 400}, "ratio", "Enter a number."),
    ],
)
def test_a_bad_value_on_the_start_form_is_a_field_error(
    signed_in, data, field, message
):
    response = signed_in.post(START, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    "query", ["from=0001-01-01", "to=9999-12-31", "page=" + "9" * 30]
)
def test_extreme_filters_on_the_executions_list_are_ignored(signed_in, query):
    response = signed_in.get(f"{reverse('approvals:executions')}?{query}")
    assert response.status_code == 200
