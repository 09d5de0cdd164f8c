"""DNS queries to the sandbox's CoreDNS (dnspython), as a resolver on the host asks them."""

from __future__ import annotations

import dns.asyncquery
import dns.message
import dns.rcode
import dns.rdatatype


class NoSuchName(Exception):
    """The server answered NXDOMAIN."""


async def addresses(port: int, name: str, *, server: str = "127.0.0.1", timeout: float = 2.0) -> list[str]:
    """The A records CoreDNS on ``server:port`` answers for ``name``, in its order; :class:`NoSuchName`
    on NXDOMAIN, ``AssertionError`` on any other error code."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    answer = await dns.asyncquery.udp(query, server, port=port, timeout=timeout)
    if answer.rcode() == dns.rcode.NXDOMAIN:
        raise NoSuchName(name)
    assert answer.rcode() == dns.rcode.NOERROR, f"{name}: {dns.rcode.to_text(answer.rcode())}"
    return [item.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A for item in rrset]


async def answered(port: int, name: str, **kwargs: object) -> list[str]:
    """:func:`addresses`, with NXDOMAIN as no address."""
    try:
        return await addresses(port, name, **kwargs)  # type: ignore[arg-type]
    except NoSuchName:
        return []
