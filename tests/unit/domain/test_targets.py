"""What to deploy: the target's shape checked once, and the spec it makes, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.targets import (
    Changes,
    ExistingVersion,
    WholeSpec,
    make_spec,
    parse_new_spec,
    parse_target,
)
from dockyard.domain.versions import SealedValue, VersionSpec, parse_spec

IMAGE = "registry.local/shop/web@sha256:" + "a" * 64
LATEST = parse_spec({"image": "registry.local/shop/web:1", "flavor": "medium", "instances": 4, "env": {"A": "1"}})


def seal(value: str) -> SealedValue:
    return SealedValue(token=f"sealed:{value}", fingerprint="f" * 16)


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ({"version": 3}, ExistingVersion(3)),
        ({"spec": {"image": "x"}}, WholeSpec({"image": "x"})),
        ({"spec": {"build": "b-1", "instances": 2}}, WholeSpec({"instances": 2}, build="b-1")),
        ({"changes": {"instances": 2}}, Changes({"instances": 2})),
        ({"changes": {"build": "b-1"}}, Changes({}, build="b-1")),
    ],
)
def test_a_target_is_exactly_one_of_version_spec_or_changes(given: dict[str, Any], target: object) -> None:
    assert parse_target(**given) == target


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "version"),
        ({"version": 1, "changes": {}}, "version"),
        ({"spec": {}, "changes": {}}, "version"),
        ({"version": 0}, "version"),
        ({"version": True}, "version"),
        ({"version": 2**31}, "version"),
        ({"spec": ["image"]}, "spec"),
        ({"changes": "instances=2"}, "changes"),
        ({"changes": {"build": "b-1", "image": "x"}}, "build"),
        ({"spec": {"build": 7}}, "build"),
        ({"changes": {"build": "x" * 37}}, "build"),
    ],
)
def test_a_malformed_target_names_the_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_target(**given)
    assert e.value.field == field


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**40, True])
def test_an_existing_version_is_a_version_number_however_it_is_made(number: int) -> None:
    """A rollback makes its target directly from the body's number: the same check applies."""
    with pytest.raises(InvalidInput) as e:
        ExistingVersion(number)
    assert e.value.field == "version"


def test_a_new_version_is_made_from_a_spec_or_changes_never_an_existing_version() -> None:
    assert parse_new_spec(changes={"instances": 1}) == Changes({"instances": 1})
    for given in ({}, {"spec": {}, "changes": {}}):
        with pytest.raises(InvalidInput, match="either a whole spec or changes") as e:
            parse_new_spec(**given)
        assert e.value.field == "spec"


def _fields(spec: VersionSpec) -> dict[str, Any]:
    return {"image": spec.image, "flavor": spec.flavor, "instances": spec.instances, "ports": len(spec.ports)}


# (target, latest, build's image) -> the spec's image, flavor, instances and number of ports
MADE = [
    # a whole spec is taken as it is; a build gives its image
    (WholeSpec({"image": "a:1", "flavor": "tiny", "instances": 2}), None, None, ("a:1", "tiny", 2, 0)),
    (WholeSpec({"flavor": "tiny", "instances": 2}, build="b"), LATEST, IMAGE, (IMAGE, "tiny", 2, 0)),
    # changes apply to the latest version
    (Changes({"instances": 7}), LATEST, None, ("registry.local/shop/web:1", "medium", 7, 0)),
    (Changes({}, build="b"), LATEST, IMAGE, (IMAGE, "medium", 4, 0)),
    # a group's first version from changes: the defaults, one instance of the default flavor, no ports
    (Changes({}, build="b"), None, IMAGE, (IMAGE, "small", 1, 0)),
    (Changes({"instances": 3, "flavor": "small"}, build="b"), None, IMAGE, (IMAGE, "small", 3, 0)),
    (Changes({"image": "a:2", "flavor": "large"}), None, None, ("a:2", "large", 1, 0)),
    (
        Changes({"image": "a:2", "ports": [{"name": "http", "port": 8080}]}),
        None,
        None,
        ("a:2", "small", 1, 1),
    ),
]


@pytest.mark.parametrize(("target", "latest", "image", "expected"), MADE)
def test_the_spec_a_target_makes(
    target: WholeSpec | Changes, latest: VersionSpec | None, image: str | None, expected: tuple[Any, ...]
) -> None:
    spec = make_spec(target, latest=latest, image=image, seal=seal)
    assert tuple(_fields(spec).values()) == expected


def test_changes_keep_what_they_do_not_name_and_seal_new_secrets() -> None:
    spec = make_spec(Changes({"secret_env": {"TOKEN": "s3cret"}}), latest=LATEST, image=None, seal=seal)
    assert spec.env == (("A", "1"),)
    assert spec.secret_env == (("TOKEN", seal("s3cret")),)


@pytest.mark.parametrize(
    ("target", "latest", "field"),
    [
        # a first version needs an image: from the changes or from a build
        (Changes({"instances": 3, "flavor": "small"}), None, "image"),
        (Changes({"image": ""}), None, "image"),
        # the defaults are checked like any spec
        (Changes({"image": "a:1", "flavor": "huge"}), None, "flavor"),
        (Changes({"image": "a:1", "instances": 501}), None, "instances"),
        (Changes({"colour": "blue"}), LATEST, "colour"),
        (WholeSpec({"image": "a:1", "instances": 1}), None, "flavor"),
        (WholeSpec({"flavor": "small", "instances": 1}), LATEST, "image"),
    ],
)
def test_what_a_version_must_have_is_named_when_missing(
    target: WholeSpec | Changes, latest: VersionSpec | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as e:
        make_spec(target, latest=latest, image=None, seal=seal)
    assert e.value.field == field


def test_the_image_of_a_build_is_passed_only_with_a_build() -> None:
    with pytest.raises(ValueError, match="image of the target's build"):
        make_spec(Changes({"instances": 1}), latest=LATEST, image=IMAGE, seal=seal)
    with pytest.raises(ValueError, match="image of the target's build"):
        make_spec(Changes({}, build="b"), latest=LATEST, image=None, seal=seal)
