"""Outbound HTTP for tasks: one client, timeouts, and the configured URL rewrites."""

import httpx
from django.conf import settings


def rewrite_url(url: str) -> str:
    """Point a flow's URL at another base when SIGNOFF_OUTBOUND_REWRITES says so."""
    for prefix, replacement in settings.SIGNOFF_OUTBOUND_REWRITES.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def send(
    method: str, url: str, *, timeout: float | None = None, **kwargs
) -> httpx.Response:
    """Send one request; network failures raise httpx.HTTPError.

    `timeout` (seconds) may only shorten SIGNOFF_HTTP_TIMEOUT_SECONDS.
    """
    limit = settings.SIGNOFF_HTTP_TIMEOUT_SECONDS
    if timeout is not None:
        limit = min(limit, timeout)
    with httpx.Client(timeout=limit, follow_redirects=True) as client:
        return client.request(method, rewrite_url(url), **kwargs)
