"""What every page shares: the favicon, the styled 500 page, the navbar."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")
    icon = finders.find("favicon.svg")
    assert icon and Path(icon).read_text().startswith("<svg xmlns")


def test_every_page_links_the_icon(client):
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg" type="image/svg+xml"' in page


def test_an_unexpected_error_shows_the_styled_500_page(settings, user):
    settings.ROOT_URLCONF = "tests.raising_urls"
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/broken/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "<title>Something went wrong · Signoff</title>" in page
    assert "Signoff hit an error it did not expect" in page
    assert "/static/css/signoff.css" in page and "bootstrap.min.css" in page
    assert "a bug" not in page and "Traceback" not in page
