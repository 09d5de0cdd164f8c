from typing import Any

import pytest

from dockyard.domain import names
from dockyard.domain.errors import InvalidInput


@pytest.mark.parametrize(
    "value",
    [
        "web:1",
        "shop/web:1.2.3",
        "registry.local:5000/shop/web:v2",
        "registry.local/a/b/c@sha256:" + "a" * 64,
        "web:1@sha256:" + "0" * 64,
        "my-registry.example.com/team_x/web-api:2024.11.23-rc_1",
    ],
)
def test_valid_images(value: str) -> None:
    assert names.image("image", value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("web", "needs a tag or a digest"),
        ("web app:1", "no spaces"),
        (" web:1", "no spaces"),
        ("Registry.Local/web:1", "is not an image repository"),
        ("REGISTRY/WEB:1", "is not an image repository"),
        ("shop//web:1", "is not an image repository"),
        ("web:-bad", "is not an image tag"),
        ("web@sha256:xyz", "is not a sha256 digest"),
        ("", "no spaces"),
    ],
)
def test_invalid_images_name_the_field(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        names.image("versions.image", value)
    assert info.value.field == "versions.image"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("web", True),
        ("a-1", True),
        ("-a", False),
        ("A", False),
        ("a_b", False),
        ("a" * 63, True),
        ("a" * 64, False),
        ("", False),
    ],
)
def test_dns_labels(value: str, ok: bool) -> None:
    if ok:
        assert names.dns_label("name", value) == value
    else:
        with pytest.raises(InvalidInput):
            names.dns_label("name", value)


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (names.dns_label, "shop\n"),
        (names.env_name, "MODE\n"),
        (lambda f, v: names.dns_label(f, v, letter_first=True), "1web"),
        (names.port_name, "80"),
        (names.port_name, "grpc--admin"),
        (names.port_name, "a-very-long-port-name"),
        (names.system_name, "default"),
        (names.system_name, "kube-anything"),
    ],
)
def test_names_kubernetes_would_reject_are_refused(check: Any, value: str) -> None:
    with pytest.raises(InvalidInput):
        check("f", value)


def test_a_trailing_newline_is_not_part_of_an_image() -> None:
    with pytest.raises(InvalidInput):
        names.image("image", "registry.local/web:1\n")


def test_good_port_and_service_names() -> None:
    assert names.port_name("p", "grpc-admin") == "grpc-admin"
    assert names.port_name("p", "h2") == "h2"
    assert names.dns_label("n", "web-2", letter_first=True) == "web-2"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("two\nlines\tand a tab", True),
        ("中文说明", True),
        ("nul\x00", False),
        ("bell\x07", False),
        ("del\x7f", False),
        ("x" * 31, False),
        (3, False),
    ],
)
def test_free_text(value: object, ok: bool) -> None:
    if ok:
        assert names.text("description", value, max_length=30) == value
    else:
        with pytest.raises(InvalidInput, match="description"):
            names.text("description", value, max_length=30)
