"""Shared by the notification, link and reminder tests: people and their links."""

import re

from django.contrib.auth.models import Group

from tests.factories import UserFactory

LINK = re.compile(r"https?://[^\s\"<>]+/l/[0-9a-f-]{36}/[A-Za-z0-9_-]+/")


def people(tenant):
    """bob (a user assignee), carol and erin (managers), dan (a manager of
    another tenant), alice (the starter)."""
    managers = Group.objects.create(name="managers")
    made = {
        name: UserFactory(username=name, tenants=[tenant])
        for name in ("alice", "bob", "carol", "erin")
    }
    made["dan"] = UserFactory(username="dan")  # in no tenant of this token
    for name in ("carol", "erin", "dan"):
        made[name].groups.add(managers)
    return made


def links_in(message) -> list[str]:
    return LINK.findall(message.body)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
