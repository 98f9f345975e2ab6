"""Outbound HTTP for tasks: the one path for Request and SlackIncomingWebhook.

Every call goes where SIGNOFF_OUTBOUND_ALLOW lets it: the target's name is
resolved once, every address it resolves to is vetted (public, or listed), and the
connection goes to a vetted address with the name kept in the Host header and in
TLS (SNI and the certificate check), so a second DNS answer cannot slip in between
the check and the connection (DNS rebinding). Redirects are followed by httpx,
bounded, and each hop comes through the same vetting transport.
"""

import ipaddress
import socket

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
BODY_CAP_BYTES = 4096  # error bodies kept in outputs and error messages
SETTING = "SIGNOFF_OUTBOUND_ALLOW"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_NAMES = {"metadata.google.internal"}
METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
}
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The target is not allowed; the message names the setting that would allow it."""


def rewrite_url(url: str) -> str:
    """Point a flow's URL at another base when SIGNOFF_OUTBOUND_REWRITES says so."""
    for prefix, replacement in settings.SIGNOFF_OUTBOUND_REWRITES.items():
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    return url


def send(
    method: str,
    url: str,
    *,
    idempotency_key: str,
    timeout: float | None = None,
    headers: dict | None = None,
    **kwargs,
) -> httpx.Response:
    """Send one request to the (rewritten) URL, if allowed.

    Raises Refused for a target SIGNOFF_OUTBOUND_ALLOW does not let through (on
    any hop) and httpx.HTTPError for network failures. `timeout` (seconds) may
    only shorten SIGNOFF_HTTP_TIMEOUT_SECONDS. The task's own `Idempotency-Key`
    header, if any, wins over `<execution id>/<task path>`.
    """
    limit = settings.SIGNOFF_HTTP_TIMEOUT_SECONDS
    if timeout is not None:
        limit = min(limit, timeout)
    headers = httpx.Headers(headers or {})
    headers.setdefault("Idempotency-Key", idempotency_key)
    with httpx.Client(
        timeout=limit,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=VettedTransport(),
        trust_env=False,  # a proxy from the environment would bypass the vetting
    ) as client:
        return client.request(method, rewrite_url(url), headers=headers, **kwargs)


class VettedTransport(httpx.HTTPTransport):
    """Connects only to addresses vetted for the request's host (each hop)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url, extensions = request.url, request.extensions
        addresses = vet(url.host, url.port or (443 if url.scheme == "https" else 80))
        if not _is_address(url.host):
            # The name stays in the Host header (built from the URL) and in TLS.
            request.extensions = {**extensions, "sni_hostname": url.host}
        failure = httpx.ConnectError(f"{url.host} has no address")
        try:
            for address in addresses:  # as socket.create_connection tries them
                request.url = url.copy_with(host=str(address))
                try:
                    return super().handle_request(request)
                except httpx.ConnectError as exc:
                    failure = exc
        finally:
            # Redirects and messages use the URL as written, not the address.
            request.url, request.extensions = url, extensions
        raise failure


def vet(host: str, port: int) -> list[IPAddress]:
    """The addresses to connect to for `host`; Refused if any of them is not allowed.

    A host listed by name may resolve to anything; otherwise every address must be
    public or inside a listed range.
    """
    names, networks = allow_list()
    name = host.rstrip(".").lower()
    if name in names:
        return resolve(host, port)
    if name in METADATA_NAMES:
        raise Refused(f"{host} is a cloud metadata address; {_advice()}")
    addresses = resolve(host, port)
    for address in addresses:
        kind = refusal(address)
        if kind and not any(address in network for network in networks):
            shown = host if _is_address(host) else f"{host} ({address})"
            raise Refused(f"{shown} is {kind}; {_advice()}")
    return addresses


def refusal(address: IPAddress) -> str:
    """Why an address is refused unless listed ("a private address"), or ""."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.version == 4 and address in SHARED, "a shared (CGNAT) address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "a reserved address"),
    )
    return next((kind for refused, kind in checks if refused), "")


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without repeats."""
    if _is_address(host):
        return [ipaddress.ip_address(host)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def allow_list() -> tuple[set[str], list]:
    """SIGNOFF_OUTBOUND_ALLOW as (host names, networks); an address is a /32 or /128."""
    names, networks = set(), []
    for entry in settings.SIGNOFF_OUTBOUND_ALLOW:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip(".").lower())
    return names, networks


def cap_body(text: str) -> str:
    """A response body as kept in outputs and errors: at most 4 KB of UTF-8."""
    data = text.encode("utf-8", "replace")
    if len(data) <= BODY_CAP_BYTES:
        return text
    kept = data[:BODY_CAP_BYTES].decode("utf-8", "ignore")
    return f"{kept}… (truncated)"


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _advice() -> str:
    return f"list it in {SETTING} to allow it"
