"""Which redirects a provider's requests may follow, as pure rules over URLs and addresses.

A redirect stays *within the site* when it goes to one of the definition's own hosts (its
``url``, its health URL and the kind's API hosts) on the same port, upgrades one of them to
HTTPS, goes to its ``www.`` twin or a subdomain of it, stays on the host:port being talked to,
or goes to a host the definition lists in ``redirect_hosts`` (``cdn.example.org``,
``cdn.example.org:8443`` or ``*.example.org``). Anything else is refused.

Even within the site, a redirect may not lead into loopback, link-local or private networks
(nor to reserved or unspecified addresses) unless the definition's own host is such an address:
a public site cannot make this server fetch from the network it runs in. Host names are judged
by the addresses they resolve to, which the caller looks up (``needs_addresses``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 10

Endpoint = tuple[str, int]


def endpoint(url: str) -> Endpoint:
    """``(host, port)`` of an absolute http(s) URL, the port made explicit."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)


def is_internal_address(address: str) -> bool:
    """Loopback, private, link-local, reserved or unspecified (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_multicast
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_internal_host(host: str) -> bool | None:
    """True/False for an IP literal or a ``localhost`` name; ``None`` when only resolving the
    name can tell."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if _is_ip(host):
        return is_internal_address(host)
    return None


@dataclass(frozen=True)
class SitePolicy:
    """What the HTTP client knows of one provider's site."""

    rate: float | None = None
    endpoints: frozenset[Endpoint] = frozenset()
    redirect_hosts: tuple[str, ...] = ()
    # The definition's own host is itself loopback/private (a fake site, a server on the LAN).
    internal: bool = False
    hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosts", frozenset(host for host, _ in self.endpoints))

    @classmethod
    def for_site(
        cls, urls: Iterable[str], *, rate: float | None = None, redirect_hosts: Sequence[str] = ()
    ) -> SitePolicy:
        endpoints = frozenset(endpoint(url) for url in urls)
        internal = any(is_internal_host(host) for host, _ in endpoints)
        return cls(
            rate=rate,
            endpoints=endpoints,
            redirect_hosts=tuple(entry.lower().rstrip(".") for entry in redirect_hosts),
            internal=internal,
        )


def _within_site(policy: SitePolicy, host: str, port: int) -> bool:
    if (host, port) in policy.endpoints:
        return True
    default_port = port in DEFAULT_PORTS.values()
    for own, own_port in policy.endpoints:
        related = (
            host == own
            or host == f"www.{own}"
            or own == f"www.{host}"
            or (not _is_ip(own) and host.endswith("." + own.removeprefix("www.")))
        )
        if related and (port == own_port or (default_port and own_port in DEFAULT_PORTS.values())):
            return True
    return False


def _listed(policy: SitePolicy, host: str, port: int) -> bool:
    for entry in policy.redirect_hosts:
        name, _, wanted_port = entry.partition(":")
        if wanted_port and wanted_port != str(port):
            continue
        if name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


def redirect_refusal(policy: SitePolicy, source: str, target: str) -> str | None:
    """Why a redirect from ``source`` to ``target`` may not be followed, or ``None``. The
    address rule for host names is ``address_refusal``, applied once they are resolved."""
    scheme = urlsplit(target).scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return f"redirect to a {scheme or 'relative'}: URL refused"
    host, port = endpoint(target)
    if not host:
        return "redirect without a host refused"
    if (host, port) == endpoint(source):
        return None  # the server already being talked to, whatever its address
    if not (_within_site(policy, host, port) or _listed(policy, host, port)):
        return (
            f"redirect to {host}:{port} refused: outside the provider's site "
            "(a definition may allow hosts with redirect_hosts)"
        )
    if not policy.internal and host not in policy.hosts and is_internal_host(host):
        return f"redirect to {host} refused: an internal address"
    return None


def needs_addresses(policy: SitePolicy, target: str) -> bool:
    """Whether ``target``'s host name must be resolved before following a redirect to it."""
    host, _ = endpoint(target)
    return not policy.internal and host not in policy.hosts and is_internal_host(host) is None


def address_refusal(host: str, addresses: Sequence[str]) -> str | None:
    internal = [address for address in addresses if is_internal_address(address)]
    if internal:
        return f"redirect to {host} refused: it resolves to an internal address ({internal[0]})"
    return None
