"""Layout and sign-in: navigation, login/logout, redirects, status pages."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

PAGES = ["approvals:inbox", "approvals:executions", "approvals:flows"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_login(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_root_redirects_to_the_inbox(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302 and response.url == reverse("approvals:inbox")


def test_login_page_renders_a_labelled_form(client, db):
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in page and "<title>Sign in · Signoff</title>" in page
    assert 'for="id_username"' in page and 'for="id_password"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_login_lands_on_the_inbox(client, user):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "pw-correct-horse"}
    )
    assert response.status_code == 302 and response.url == reverse("approvals:inbox")


def test_wrong_password_is_refused_with_a_message(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "no"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_layout_has_nav_skip_link_landmarks_and_logout_form(client, user):
    client.force_login(user)
    page = client.get(reverse("approvals:inbox")).content.decode()
    assert '<a class="skip-link" href="#content">' in page
    assert '<main id="content"' in page and '<nav class="navbar' in page
    assert "<title>Inbox · Signoff</title>" in page
    for name in PAGES:
        assert f'href="{reverse(name)}"' in page
    assert "Signed in as <strong>alice</strong>" in page
    logout = page[page.index(f'action="{reverse("logout")}"') :]
    assert 'method="post"' in page and "csrfmiddlewaretoken" in logout[:300]
    assert reverse("admin:index") not in page


def test_staff_see_the_admin_link(client, tenant):
    staff = UserFactory(username="root", is_staff=True, tenants=[tenant])
    client.force_login(staff)
    page = client.get(reverse("approvals:inbox")).content.decode()
    assert f'href="{reverse("admin:index")}"' in page


def test_logout_is_a_post_and_signs_out(client, user):
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("approvals:inbox")).status_code == 302


def test_nav_badge_is_not_computed_for_anonymous_users(
    client, db, django_assert_num_queries
):
    with django_assert_num_queries(0):
        page = client.get(reverse("login")).content.decode()
    assert 'id="inbox-count"' not in page


def test_messages_are_shown_once(client, user, make_flow, run_on_commit):
    make_flow(
        """
        id: plain
        namespace: acme.ops
        tasks:
          - id: a
            type: Return
            format: x
        """
    )
    client.force_login(user)
    url = reverse("approvals:start", args=["acme.ops", "plain"])
    landed = run_on_commit(client.post, url, {}, follow=True)
    page = landed.content.decode()
    assert 'class="alert alert-success">Execution of acme.ops.plain started.' in page
    again = client.get(landed.request["PATH_INFO"]).content.decode()
    assert "started." not in again


def test_the_demo_sign_in_page_says_what_to_try_as_whom(client, db, settings):
    settings.SIGNOFF_DEMO = True
    page = client.get(reverse("login")).content.decode()
    assert "What to try in this demo" in page
    for person in ("employee", "manager", "admin"):
        assert f"<strong>{person}</strong>" in page
    settings.SIGNOFF_DEMO = False
    assert "What to try" not in client.get(reverse("login")).content.decode()


def test_the_demo_inbox_keeps_the_guide_folded_away(client, user, settings):
    client.force_login(user)
    settings.SIGNOFF_DEMO = True
    page = client.get(reverse("approvals:inbox")).content.decode()
    assert "<summary>What to try in this demo</summary>" in page
    settings.SIGNOFF_DEMO = False
    assert "What to try" not in client.get(reverse("approvals:inbox")).content.decode()
