"""Flow authors' Markdown (a Pause's `message`, a flow's `description`) as safe HTML.

markdown-it-py renders CommonMark with raw HTML off (typed HTML shows as text) and
refuses javascript:/vbscript:/data: links itself; nh3 then keeps only the tags
below and http(s)/mailto URLs, and marks every link noopener noreferrer nofollow,
so a message can never run script even if one library has a gap.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# `breaks`: a single newline stays a line break, as plain-text messages had.
# No images: the CSP would block other sites' anyway, and a tracking pixel must not
# load; `![alt](url)` is left as "!" and a link.
_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "breaks": True})
    .enable(["table", "strikethrough"])
    .disable("image")
)
TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "hr",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


def render(text: str) -> SafeString:
    """Sanitised HTML for `text`; empty for empty text."""
    if not text:
        return mark_safe("")
    html = _MARKDOWN.render(str(text))
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        clean_content_tags={"script", "style"},
    )
    return mark_safe(clean)  # noqa: S308 - nh3's allow-list output
