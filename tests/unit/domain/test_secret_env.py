"""Secret env vars in version specs: sealed on input, masked on output, rendered into a Secret."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from dockyard.domain.drift import workload_drift
from dockyard.domain.errors import InvalidInput
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import MAX_SECRET_BYTES, SealedValue, diff, load_spec, parse_spec

PASSWORD = "pg-password-d41d8cd9"
BASE: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "small",
    "instances": 2,
    "env": {"MODE": "prod"},
    "secret_env": {"DB_PASSWORD": PASSWORD, "API_KEY": "k-123"},
}
REF = GroupRef(system="shop", app="web", group="prod")


class Box:
    """Stands for the platform's box: tokens that hold no plaintext, openable by this object only."""

    def __init__(self) -> None:
        self.opened: dict[str, str] = {}

    def seal(self, value: str) -> SealedValue:
        token = f"sealed-{len(self.opened)}"
        self.opened[token] = value
        return SealedValue(token=token, fingerprint=hashlib.sha256(value.encode()).hexdigest())

    def values(self, spec: Any) -> dict[str, str]:
        return {name: self.opened[v.token] for name, v in spec.secret_env}


def test_secret_values_are_sealed_and_shown_masked_only() -> None:
    box = Box()
    spec = parse_spec(BASE, seal=box.seal)
    assert [name for name, _ in spec.secret_env] == ["API_KEY", "DB_PASSWORD"]
    masked = spec.masked()
    assert masked["secret_env"] == {
        "API_KEY": "<secret:" + hashlib.sha256(b"k-123").hexdigest()[:12] + ">",
        "DB_PASSWORD": "<secret:" + hashlib.sha256(PASSWORD.encode()).hexdigest()[:12] + ">",
    }
    assert masked["env"] == {"MODE": "prod"}
    for shown in (str(masked), repr(spec), str(spec.to_data())):
        assert PASSWORD not in shown
    assert "sealed-" not in str(masked)  # tokens stay in storage
    assert load_spec(spec.to_data()) == spec


def test_a_stored_form_given_as_input_is_refused() -> None:
    stored = parse_spec(BASE, seal=Box().seal).to_data()
    with pytest.raises(InvalidInput) as info:
        parse_spec(stored, seal=Box().seal)
    assert info.value.field == "secret_env.API_KEY"


@pytest.mark.parametrize(
    ("secret_env", "field", "message"),
    [
        ({"1BAD": PASSWORD}, "secret_env.1BAD", "environment variable name"),
        ({"TOKEN": 42}, "secret_env.TOKEN", "must be strings"),
        ({"MODE": PASSWORD}, "secret_env.MODE", "in env and in secret_env"),
        ({"TOKEN": "<secret:0a1b2c3d4e5f>"}, "secret_env.TOKEN", "how the API shows a secret"),
        ({"TOKEN": "<secret>"}, "secret_env.TOKEN", "how the API shows a secret"),
        ({"A": PASSWORD, "B": "x" * MAX_SECRET_BYTES}, "secret_env.B", "at most"),
        ([PASSWORD], "secret_env", "an object"),
    ],
)
def test_invalid_secret_env_names_the_variable_never_the_value(secret_env: Any, field: str, message: str) -> None:
    box = Box()
    with pytest.raises(InvalidInput) as info:
        parse_spec({**BASE, "secret_env": secret_env}, seal=box.seal)
    assert info.value.field == field
    assert message in str(info.value)
    assert PASSWORD not in str(info.value)
    assert box.opened == {}  # nothing sealed for invalid input


def test_secret_values_need_a_sealer() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_spec(BASE)
    assert info.value.field == "secret_env"
    assert parse_spec({**BASE, "secret_env": {}}).secret_env == ()


def test_changes_keep_the_sealed_values_unless_they_give_new_ones() -> None:
    box = Box()
    spec = parse_spec(BASE, seal=box.seal)
    scaled = spec.with_changes(instances=5)
    assert scaled.secret_env == spec.secret_env  # carried over sealed, nothing opened or sealed again
    assert len(box.opened) == 2
    rotated = spec.with_changes(seal=box.seal, secret_env={"DB_PASSWORD": "new-password"})
    assert [name for name, _ in rotated.secret_env] == ["DB_PASSWORD"]
    assert box.values(rotated) == {"DB_PASSWORD": "new-password"}
    assert spec.with_changes(secret_env={}).secret_env == ()
    with pytest.raises(InvalidInput) as info:
        spec.with_changes(env={"MODE": "prod", "API_KEY": "clear"})
    assert info.value.field == "secret_env.API_KEY"


def test_diff_says_a_secret_changed_without_showing_it() -> None:
    box = Box()
    old = parse_spec(BASE, seal=box.seal)
    same = parse_spec(BASE, seal=box.seal)  # sealed again: other tokens, same values
    assert diff(old, same) == {}
    new = old.with_changes(seal=box.seal, secret_env={"DB_PASSWORD": "other", "EXTRA": "e"})
    changes = diff(old, new)
    assert set(changes) == {"secret_env.API_KEY", "secret_env.DB_PASSWORD", "secret_env.EXTRA"}
    before, after = changes["secret_env.DB_PASSWORD"]
    assert before.startswith("<secret:")
    assert after.startswith("<secret:")
    assert before != after
    assert changes["secret_env.EXTRA"][0] is None
    assert "other" not in str(changes)
    assert PASSWORD not in str(changes)


def test_render_puts_the_values_in_an_immutable_secret_the_deployment_references() -> None:
    box = Box()
    spec = parse_spec(BASE, seal=box.seal)
    objects = render(REF, 4, spec, box.values(spec))
    kinds = ["ServiceAccount", "ConfigMap", "Secret", "Deployment", "PodDisruptionBudget"]
    assert [o["kind"] for o in objects] == kinds
    secret = objects[2]
    assert secret["metadata"]["name"] == "web-prod-v4"
    assert secret["metadata"]["labels"]["dockyard.io/version"] == "4"
    assert secret["metadata"]["labels"]["dockyard.io/group"] == "prod"
    assert secret["immutable"] is True
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "API_KEY": "k-123",
        "DB_PASSWORD": PASSWORD,
    }
    deployment = objects[3]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "web-prod-v4", "key": "API_KEY"}}},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-prod-v4", "key": "DB_PASSWORD"}}},
    ]
    assert PASSWORD not in str(deployment)
    assert base64.b64encode(PASSWORD.encode()).decode() not in str(deployment)


def test_render_needs_exactly_the_opened_values() -> None:
    box = Box()
    spec = parse_spec(BASE, seal=box.seal)
    with pytest.raises(ValueError, match="opened value of each secret env var") as info:
        render(REF, 1, spec, {"API_KEY": "k-123"})
    assert PASSWORD not in str(info.value)
    with pytest.raises(ValueError, match="opened value"):
        render(REF, 1, spec.with_changes(secret_env={}), box.values(spec))
    plain = render(REF, 1, spec.with_changes(secret_env={}))
    assert "Secret" not in [o["kind"] for o in plain]


def test_drift_needs_no_secret_value() -> None:
    box = Box()
    spec = parse_spec(BASE, seal=box.seal)
    live = next(o for o in render(REF, 2, spec, box.values(spec)) if o["kind"] == "Deployment")["spec"]
    assert workload_drift(REF, 2, spec, live) == {}
    edited = {**live, "template": {**live["template"], "spec": {**live["template"]["spec"]}}}
    container = dict(edited["template"]["spec"]["containers"][0])
    container["env"] = [*container["env"][:1], {"name": "API_KEY", "value": "typed-by-hand"}, container["env"][2]]
    edited["template"]["spec"]["containers"] = [container]
    # The hand-set value is a field Dockyard does not set; the reference it replaced is the drift.
    assert set(workload_drift(REF, 2, spec, edited)) == {"template.spec.containers[app].env[API_KEY].valueFrom"}
