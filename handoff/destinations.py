"""Where webhooks may go: public internet addresses only (no loopback, link-local such as the
cloud metadata service at 169.254.169.254, private ranges or credentials in the URL), unless a
destination is allowed explicitly (`WEBHOOK_ALLOWED_PRIVATE`, CIDRs). Checked when a hook is
saved and again at every delivery, after resolving the name, for every address it resolves to;
the request then goes to the address that was checked, so a name that changes its answer in
between (DNS rebinding) gains nothing. Redirects are never followed."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

BLOCKED_NAMES = ("localhost", "metadata", "metadata.google.internal")
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(ValueError):
    """A webhook URL that leads somewhere leadflow does not send to."""


class Unresolvable(UnsafeDestination):
    """A host name that does not resolve (now)."""


def _allowed_private(ip: IP) -> bool:
    return any(
        ip in ipaddress.ip_network(cidr.strip(), strict=False)
        for cidr in settings.WEBHOOK_ALLOWED_PRIVATE
        if cidr.strip()
    )


def _check_ip(ip: IP) -> None:
    if not ip.is_global and not _allowed_private(ip):
        raise UnsafeDestination(_("Webhooks go to public addresses only (not %s).") % ip)


def check_url(url: str) -> tuple[str, int, str]:
    """(host, port, scheme) of a URL leadflow may send to, or UnsafeDestination (syntax, names
    and literal addresses; resolution is `resolve`'s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(_("An http(s) URL."))
    if parts.username or parts.password:
        raise UnsafeDestination(_("A webhook URL may not carry a user or a password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination(_("An http(s) URL.")) from exc
    host = parts.hostname.lower().rstrip(".")
    try:
        _check_ip(ipaddress.ip_address(host))
    except ValueError:  # a name, not an address
        if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES) or "." not in host:
            raise UnsafeDestination(_("Webhooks go to public host names only.")) from None
    return host, port, parts.scheme


def resolve(host: str, port: int) -> list[IP]:
    """Every address the name resolves to, each checked; UnsafeDestination if any is not public
    (a name with one private answer is refused whole)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Unresolvable(_("The host name does not resolve.")) from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for ip in addresses:
        _check_ip(ip)
    return addresses


def validate_at_save(url: str) -> None:
    """At save: the URL's form, and where its name resolves now (a name that does not resolve
    yet is left to the delivery's own check)."""
    host, port, _scheme = check_url(url)
    with contextlib.suppress(Unresolvable):
        resolve(host, port)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the checked address of `url`; the response's status (a redirect is an answer,
    not followed). Raises UnsafeDestination or OSError."""
    host, port, scheme = check_url(url)
    address = str(resolve(host, port)[0])
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raw = socket.create_connection((address, port), timeout=timeout)
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context()
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        conn.sock = context.wrap_socket(raw, server_hostname=host)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = raw
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(65536)
        return int(response.status)
    finally:
        conn.close()
