from pathlib import Path
from typing import Any

import pytest
import yaml

from dockyard.domain.errors import InvalidInput
from dockyard.domain.versions import Port, Probe, diff, parse_spec

BASE: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "small",
    "instances": 3,
    "ports": [{"name": "http", "port": 8080}],
    "env": {"MODE": "prod"},
    "config_files": {"app.yaml": "a: 1\n", "conf.d/extra.ini": "[x]\n"},
    "readiness": {"port": 8080, "path": "/healthz"},
    "pre_stop": ["/bin/sh", "-c", "sleep 5"],
}


def test_a_full_spec_is_parsed_and_round_trips() -> None:
    spec = parse_spec(BASE)
    assert spec.ports == (Port("http", 8080, "TCP"),)
    assert spec.readiness == Probe(port=8080, path="/healthz")
    assert spec.config_files == (("app.yaml", "a: 1\n"), ("conf.d/extra.ini", "[x]\n"))
    assert spec.termination_grace_seconds == 30
    assert parse_spec(spec.to_data()) == spec


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instances": -1}, "instances"),
        ({"instances": 10_000}, "instances"),
        ({"instances": "3"}, "instances"),
        ({"instances": True}, "instances"),
        ({"instances": None}, "instances"),
        ({"flavor": "huge"}, "flavor"),
        ({"image": "registry.local/shop/web app:1"}, "image"),
        ({"image": "REGISTRY.local/Shop/web:1"}, "image"),
        ({"config_files": {"../etc/passwd": "x"}}, "config_files.../etc/passwd"),
        ({"config_files": {"/etc/app.yaml": "x"}}, "config_files./etc/app.yaml"),
        ({"config_files": {"a/../../b": "x"}}, "config_files.a/../../b"),
        ({"config_files": {"./a": "x"}}, "config_files../a"),
        ({"config_files": {".": "x"}}, "config_files.."),
        ({"flavor": ["small"]}, "flavor"),
        ({"ports": [{"name": "80", "port": 80}]}, "ports[0].name"),
        ({"config_files": {"big.bin": "x" * (10 * 1024 * 1024)}}, "config_files.big.bin"),
        ({"ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 8080}]}, "ports[1].port"),
        ({"ports": [{"name": "http", "port": 8080}, {"name": "http", "port": 9090}]}, "ports[1].name"),
        ({"ports": [{"name": "http", "port": 70000}]}, "ports[0].port"),
        ({"ports": [{"name": "Http", "port": 80}]}, "ports[0].name"),
        ({"ports": [{"name": "http", "port": 80, "protocol": "SCTP"}]}, "ports[0].protocol"),
        ({"env": {"1BAD": "x"}}, "env.1BAD"),
        ({"env": {"GOOD": 1}}, "env.GOOD"),
        ({"readiness": {"port": 9999}}, "readiness.port"),
        ({"readiness": {"port": 8080, "path": "healthz"}}, "readiness.path"),
        ({"liveness": {"port": 8080, "period_seconds": 0}}, "liveness.period_seconds"),
        ({"pre_stop": "sleep 5"}, "pre_stop"),
        ({"termination_grace_seconds": 7200}, "termination_grace_seconds"),
        ({"colour": "red"}, "colour"),
        ({"security": "privileged"}, "security"),
        ({"security": None}, "security"),
        ({"security": ["baseline"]}, "security"),
        ({"run_as_user": 0}, "run_as_user"),
        ({"run_as_user": -1, "security": "baseline"}, "run_as_user"),
        ({"run_as_user": 2**31}, "run_as_user"),
        ({"run_as_user": "1000"}, "run_as_user"),
        ({"run_as_user": True}, "run_as_user"),
    ],
)
def test_invalid_specs_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_spec({**BASE, **change})
    assert info.value.field == field


def test_missing_required_fields() -> None:
    for key in ("image", "flavor", "instances"):
        with pytest.raises(InvalidInput) as info:
            parse_spec({k: v for k, v in BASE.items() if k != key})
        assert info.value.field == key


def test_diff_lists_changed_fields_config_files_and_env_by_key() -> None:
    old = parse_spec(BASE)
    new = old.with_changes(
        image="registry.local/shop/web:2",
        config_files={"app.yaml": "a: 2\n", "conf.d/extra.ini": "[x]\n"},
        env={"MODE": "prod", "DEBUG": "1"},
    )
    assert diff(old, new) == {
        "config_files.app.yaml": ("a: 1\n", "a: 2\n"),
        "env.DEBUG": (None, "1"),
        "image": ("registry.local/shop/web:1", "registry.local/shop/web:2"),
    }
    assert diff(old, old) == {}


def test_security_is_restricted_unless_baseline_is_asked_for_and_shows_in_diffs() -> None:
    spec = parse_spec(BASE)
    assert (spec.security, spec.run_as_user) == ("restricted", None)
    legacy = spec.with_changes(security="baseline", run_as_user=0)
    assert (legacy.security, legacy.run_as_user) == ("baseline", 0)
    assert parse_spec(legacy.to_data()) == legacy
    assert diff(spec, legacy) == {"run_as_user": (None, 0), "security": ("restricted", "baseline")}
    with pytest.raises(InvalidInput) as info:
        legacy.with_changes(security="restricted")  # still root
    assert info.value.field == "run_as_user"


def test_with_changes_checks_its_input() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_spec(BASE).with_changes(instances=-5)
    assert info.value.field == "instances"


def test_the_example_spec_in_the_readme_is_valid() -> None:
    root = Path(__file__).resolve().parents[3]
    spec = parse_spec(yaml.safe_load((root / "examples" / "web-v1.yaml").read_text()))
    assert (spec.flavor, spec.instances, spec.ports[0].port) == ("small", 3, 8080)


def test_a_port_named_metrics_is_the_one_prometheus_scrapes_and_must_be_tcp() -> None:
    assert parse_spec(BASE).metrics_port is None
    ports = [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}]
    assert parse_spec({**BASE, "ports": ports}).metrics_port == 9090
    with pytest.raises(InvalidInput) as e:
        parse_spec({**BASE, "ports": [{"name": "metrics", "port": 9090, "protocol": "UDP"}]})
    assert e.value.field == "ports[0].protocol"
    assert "must be TCP" in str(e.value)
