from dataclasses import fields

import pytest

from dockyard.sandbox import processes
from dockyard.sandbox.errors import SandboxError
from dockyard.sandbox.layout import Ports


def test_default_ports_are_the_usual_ones() -> None:
    ports = Ports()
    assert (ports.etcd, ports.apiserver, ports.metrics_server) == (2379, 6443, 4443)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"apiserver": 0}, "--apiserver-port must be between 1 and 65535 (got 0)"),
        ({"kwok": 70000}, "--kwok-port must be between 1 and 65535 (got 70000)"),
        ({"scheduler": 6443}, "port 6443 is given to both apiserver and scheduler"),
    ],
)
def test_bad_ports_are_refused(given: dict[str, int], message: str) -> None:
    with pytest.raises(SandboxError) as info:
        Ports(**given)
    assert str(info.value) == message


def test_picked_ports_are_distinct_free_and_render_as_flags() -> None:
    ports = Ports.pick_free()
    values = [int(v) for v in ports.flags()[1::2]]
    assert len(set(values)) == len(fields(Ports))
    assert not any(processes.port_in_use(p) for p in values)
    assert ports.flags()[:2] == ["--etcd-port", str(ports.etcd)]
    assert Ports.from_dict({"etcd": str(ports.etcd), "unknown": 1}).etcd == ports.etcd
