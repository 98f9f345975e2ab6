"""Flow authors' Markdown renders, and hostile input never becomes live HTML."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.safestring import SafeString

from approvals import markup
from tests.factories import UserFactory

HOSTILE = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "[d](data:text/html;base64,PHNjcmlwdD4=)",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_never_becomes_markup(text):
    elements = Elements(str(markup.render(text))).found
    assert {tag for tag, _ in elements} <= {"p", "a"}
    for _, attrs in elements:
        assert set(attrs) <= {"href", "rel", "title"}
        assert not attrs.get("href", "").lower().startswith(("javascript:", "data:"))


def test_markdown_renders_emphasis_lists_tables_and_safe_links():
    html = str(
        markup.render(
            "Refund **40 EUR**?\nSee [policy](https://example.com/p).\n\n"
            "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        )
    )
    assert "<strong>40 EUR</strong>?<br>" in html
    assert '<a href="https://example.com/p" rel="noopener noreferrer nofollow">' in html
    assert "<ul>\n<li>one</li>" in html and "<td>1</td>" in html


def test_images_are_not_loaded():
    html = str(markup.render("![pixel](https://tracker.example/p.png)"))
    assert "<img" not in html and "tracker.example" in html  # a link to it instead


def test_empty_text_is_empty():
    assert markup.render("") == "" and markup.render(None) == ""


@pytest.mark.django_db
def test_the_answer_and_execution_pages_render_the_message_as_markdown(
    client, tenant, pause_token
):
    approver = UserFactory(username="bob", tenants=[tenant])
    message = "**Pay** it? [x](javascript:alert(1)) <script>x</script>"
    token = pause_token(f'screen: approval\nmessage: "{message}"')
    client.force_login(approver)
    for url in (
        reverse("approvals:answer", args=[token.pk]),
        reverse("approvals:execution", args=[token.execution_id]),
    ):
        page = client.get(url).content.decode()
        assert "<strong>Pay</strong> it?" in page
        assert "&lt;script&gt;x&lt;/script&gt;" in page
        assert "<script>x" not in page and 'href="javascript:' not in page


def test_markdown_text_gives_the_words_for_a_one_line_summary():
    from approvals.templatetags.signoff import markdown_text

    text = "Refund **40 EUR**\n\n- <b>receipt</b>\n- [policy](https://e.com)"
    assert markdown_text(text) == "Refund 40 EUR <b>receipt</b> policy"  # as typed
    assert not isinstance(markdown_text(text), SafeString)  # so it gets escaped
