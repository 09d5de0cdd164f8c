"""The sandbox's CoreDNS: its Corefile and the kube-dns Service that points pods at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.domain.model import Quota
from dockyard.domain.render import ALLOW_DNS, GroupRef, system_objects
from dockyard.sandbox import dns, hostnet
from dockyard.sandbox.errors import SandboxError
from dockyard.sandbox.layout import Layout, Ports


def test_corefile_serves_the_global_names_the_cluster_and_the_rest(tmp_path: Path) -> None:
    text = dns.render_corefile(
        port=1053,
        ready_port=8181,
        metrics_port=9153,
        binds=["127.0.0.1", "192.0.2.2"],
        kubeconfig=tmp_path / "kubeconfig",
        records=tmp_path / "records" / "idc-a.hosts",
        zone=tmp_path / "dockyard.internal.zone",
    )
    assert text.startswith(".:1053 {\n    bind 127.0.0.1 192.0.2.2\n")
    assert f"hosts {tmp_path}/records/idc-a.hosts dockyard.internal {{\n        ttl 1\n        reload 250ms\n" in text
    assert f"kubernetes cluster.local in-addr.arpa ip6.arpa {{\n        kubeconfig {tmp_path}/kubeconfig\n" in text
    assert "ready 127.0.0.1:8181\n" in text
    assert "prometheus 127.0.0.1:9153\n" in text
    assert "        fallthrough dockyard.internal\n    }\n" in text  # unknown names go on to the zone...
    assert f"file {tmp_path}/dockyard.internal.zone dockyard.internal\n" in text  # ...which says NXDOMAIN
    assert "forward . /etc/resolv.conf\n" in text


@pytest.mark.parametrize(("idc", "file"), [("a", "idc-a.hosts"), ("", "all-idcs.hosts")])
def test_config_reads_the_records_file_of_the_sandboxs_idc(tmp_path: Path, idc: str, file: str) -> None:
    layout = Layout(tmp_path)
    dns.write_config(layout, Ports(), idc=idc)
    assert f"hosts {dns.records_dir(layout) / file} dockyard.internal" in dns.corefile(layout).read_text()
    assert (dns.records_dir(layout) / file).read_text() == ""
    assert dns.zone_file(layout).read_text().startswith("$ORIGIN dockyard.internal.\n@ 1 IN SOA ")


def test_config_never_overwrites_records_dockyard_wrote(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    dns.records_dir(layout).mkdir(parents=True)
    (dns.records_dir(layout) / "idc-a.hosts").write_text("10.0.0.1 prod.web.shop.dockyard.internal\n")
    dns.write_config(layout, Ports(), idc="a")
    assert (dns.records_dir(layout) / "idc-a.hosts").read_text().startswith("10.0.0.1")


def test_kube_dns_points_at_coredns_on_the_node_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostnet, "node_ip", lambda: "192.0.2.2")
    service, endpoints = dns.kube_dns_manifests(Ports(dns=1153))
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    assert "selector" not in service["spec"]
    assert {(p["protocol"], p["port"]) for p in service["spec"]["ports"]} == {("UDP", 53), ("TCP", 53)}
    assert endpoints["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
    assert endpoints["endpoints"] == [{"addresses": ["192.0.2.2"], "conditions": {"ready": True}}]
    assert {p["port"] for p in endpoints["ports"]} == {1153}


def test_kube_dns_is_what_the_systems_dns_policy_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostnet, "node_ip", lambda: "192.0.2.2")
    service, _ = dns.kube_dns_manifests(Ports())
    policy = next(
        o for o in system_objects(GroupRef("shop", "web", "prod"), Quota(0, 0)) if o["metadata"]["name"] == ALLOW_DNS
    )
    to = policy["spec"]["egress"][0]["to"][0]
    assert to["podSelector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert to["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == service["metadata"]["namespace"]


def test_no_node_ip_means_loopback_only_and_no_kube_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def none() -> str:
        raise SandboxError("no address")

    monkeypatch.setattr(hostnet, "node_ip", none)
    assert dns.addresses() == ["127.0.0.1"]
    assert dns.kube_dns_manifests(Ports()) == []
