"""The visitor's address, for rate limits, the login lockout and form submissions.

Behind a reverse proxy every request comes from the proxy's address, so one person's typos would
lock everyone out and the form limit would become global. `X-Forwarded-For` is read only when the
request comes from one of `TRUSTED_PROXIES` (CIDRs), right to left, skipping the trusted hops:
the first address no trusted proxy vouches for is the client. Without the setting, or from any
other address, the header is ignored (a client could write anything in it)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: Any) -> str:
    meta = request.META
    remote = str(meta.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed hop: the proxy's own address, never a guess
    return hops[0] if hops else remote
