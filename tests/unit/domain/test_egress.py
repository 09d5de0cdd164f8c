"""Which webhook targets are internal (SSRF): domain/egress.py, table-tested."""

from __future__ import annotations

import pytest

from dockyard.domain.egress import check_networks, internal_target


@pytest.mark.parametrize(
    ("host", "addresses", "allowed", "refused"),
    [
        ("hooks.example.com", ["93.184.216.34"], [], False),
        ("hooks.example.com", ["2606:2800:220:1::1"], [], False),
        ("oapi.dingtalk.com", [], [], False),  # does not resolve: sending fails by itself
        ("localhost", [], [], True),
        ("LOCALHOST.", ["127.0.0.1"], [], True),
        ("app.localhost", [], [], True),
        ("localhost", ["127.0.0.1"], ["127.0.0.0/8"], False),
        ("127.0.0.1", ["127.0.0.1"], [], True),
        ("127.0.0.1", ["127.0.0.1"], ["127.0.0.0/8"], False),
        ("metadata", ["169.254.169.254"], [], True),
        ("fe80::1", ["fe80::1%eth0"], [], True),
        ("intranet", ["10.1.2.3"], [], True),
        ("intranet", ["10.1.2.3"], ["10.1.2.0/24"], False),
        ("intranet", ["10.1.3.3"], ["10.1.2.0/24"], True),
        ("router", ["192.168.1.1"], [], True),
        ("corp", ["172.20.0.1"], [], True),
        ("cgnat", ["100.64.0.1"], [], True),
        ("any", ["0.0.0.0"], [], True),  # noqa: S104 - an address judged, not bound
        ("ula", ["fd12::1"], [], True),
        ("mapped", ["::ffff:10.0.0.1"], [], True),
        ("mapped", ["::ffff:10.0.0.1"], ["10.0.0.0/8"], False),
        ("multicast", ["224.0.0.1"], [], True),
        ("split", ["93.184.216.34", "10.0.0.1"], [], True),  # any internal address refuses the host
    ],
)
def test_internal_targets_are_refused_unless_allowed(
    host: str, addresses: list[str], allowed: list[str], refused: bool
) -> None:
    problem = internal_target(host, addresses, allowed_networks=allowed)
    assert (problem is not None) == refused, problem
    if problem:
        assert host in problem


def test_bad_allowed_networks_are_named() -> None:
    with pytest.raises(ValueError, match="channel_allowed_networks: 'ten' is not a network"):
        check_networks("channel_allowed_networks", ["10.0.0.0/8", "ten"])
