"""The "Hand to someone else" form on the answer screen, and its own page."""

import pytest
from django.test import Client

from approvals import answers
from flows.models import SuspensionToken


@pytest.fixture
def browser_of(people):
    def login(name: str) -> Client:
        client = Client()
        client.force_login(people[name])
        return client

    return login


def test_the_answer_screen_offers_the_form_with_member_suggestions(leave, browser_of):
    token = leave()
    page = browser_of("ann").get(f"/approvals/{token.pk}/").content.decode()
    assert "Hand to someone else" in page
    assert f'action="/approvals/{token.pk}/delegate"' in page
    assert '<option value="bob">' in page and '<option value="carol">' in page
    assert '<option value="emp">' not in page  # the requester may not approve
    assert '<option value="ann">' not in page  # not yourself


def test_handing_on_redirects_to_the_execution_with_a_message(leave, browser_of):
    token = leave()
    ann = browser_of("ann")
    done = ann.post(
        f"/approvals/{token.pk}/delegate",
        {"to": "bob", "note": "on leave"},
        follow=True,
    )
    assert done.redirect_chain == [(f"/executions/{token.execution_id}/", 302)]
    text = done.content.decode()
    assert "Handed to bob; it has left your inbox." in text
    assert "Delegated by ann to bob: on leave" in text
    assert str(token.pk) not in ann.get("/approvals/").content.decode()
    assert str(token.pk) in browser_of("bob").get("/approvals/").content.decode()


def test_a_group_member_is_told_they_still_may_answer(leave, browser_of):
    token = leave()
    done = browser_of("mia").post(
        f"/approvals/{token.pk}/delegate", {"to": "carol"}, follow=True
    )
    assert "You are still in a group it is assigned to" in done.content.decode()


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("emp", "emp started this execution, so they may not approve it."),
        ("nobody", "No active member of this tenant is called “nobody”."),
        ("", "Name the member to hand it to."),
    ],
)
def test_a_refused_delegate_is_shown_beside_the_field(leave, browser_of, to, says):
    token = leave()
    page = browser_of("ann").post(f"/approvals/{token.pk}/delegate", {"to": to})
    assert page.status_code == 400
    text = page.content.decode()
    assert says in text
    assert "<title>Error:" in text
    assert 'id="delegate_to"' in text and "is-invalid" in text
    assert SuspensionToken.objects.get(pk=token.pk).assignees["users"] == ["ann"]


def test_no_form_for_one_who_may_not_hand_it_on(leave, browser_of, people):
    token = leave("approvals: 2\nassignees:\n  users: [ann, bob]\n")
    answers.answer(people["bob"], token, {"decision": "Approved"}, channel="web")
    page = browser_of("bob").get(f"/approvals/{token.pk}/").content.decode()
    assert "Hand to someone else" not in page
    refused = browser_of("bob").post(f"/approvals/{token.pk}/delegate", {"to": "carol"})
    assert refused.status_code == 403
    assert "already answered" in refused.content.decode()


def test_a_stranger_gets_404_and_a_late_one_409(leave, browser_of, people):
    token = leave()
    assert browser_of("bob").get(f"/approvals/{token.pk}/delegate").status_code == 404
    answers.answer(people["ann"], token, {"decision": "Approved"}, channel="web")
    late = browser_of("mia").post(f"/approvals/{token.pk}/delegate", {"to": "bob"})
    assert late.status_code == 409
    assert "ann answered it" in late.content.decode()
