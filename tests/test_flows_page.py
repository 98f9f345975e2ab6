"""The flows page: descriptions as Markdown, each revision's YAML, SECRETs masked."""

import pytest
from django.urls import reverse

from flows import loader
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

FIRST = """
id: payroll
namespace: acme.hr
# first revision
description: "Pays **people**. <script>alert(1)</script>"
inputs:
  - id: api_key
    type: SECRET
    defaults: hunter2-in-the-yaml
  - id: note
    type: STRING
    defaults: plain-default
tasks:
  - id: done
    type: Return
    format: ok
"""
SECOND = FIRST.replace("# first revision", "# second revision").replace(
    "format: ok", "format: paid"
)


@pytest.fixture
def payroll(tenant):
    loader.load_flow(tenant, FIRST)
    return loader.load_flow(tenant, SECOND).flow


def yaml_url(number, namespace="acme.hr", flow_id="payroll"):
    return reverse("approvals:flow-yaml", args=[namespace, flow_id, number])


def test_the_flows_page_shows_the_description_and_links_each_revision(
    client, user, payroll
):
    client.force_login(user)
    page = client.get(reverse("approvals:flows")).content.decode()
    assert "Pays <strong>people</strong>." in page and "<script>alert" not in page
    assert f'href="{yaml_url(2)}">YAML' in page
    assert f'href="{yaml_url(1)}">Revision 1' in page
    assert 'class="table table-hover align-middle table-cards"' in page


def test_a_revision_is_served_as_written_with_secret_defaults_masked(
    client, user, payroll
):
    client.force_login(user)
    first = client.get(yaml_url(1))
    text = first.content.decode()
    assert first["Content-Type"] == "text/plain; charset=utf-8"
    assert "# first revision" in text and "plain-default" in text
    assert "hunter2" not in text and 'defaults: "******"' in text
    assert 'filename="acme.hr.payroll.r1.yaml"' in first["Content-Disposition"]
    assert "# second revision" in client.get(yaml_url(2)).content.decode()


def test_an_unknown_revision_or_flow_is_a_404_page(client, user, payroll):
    client.force_login(user)
    missing = client.get(yaml_url(7))
    assert missing.status_code == 404
    assert "acme.hr.payroll has no revision 7; its latest is 2." in (
        missing.content.decode()
    )
    assert client.get(yaml_url(1, flow_id="nope")).status_code == 404


def test_another_tenants_flow_yaml_is_a_404(client, payroll):
    outsider = UserFactory(username="eve", tenants=[TenantFactory(slug="other")])
    client.force_login(outsider)
    response = client.get(yaml_url(1))
    assert response.status_code == 404 and "hunter2" not in response.content.decode()


def test_the_yaml_needs_login(client, payroll):
    response = client.get(yaml_url(1))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
