"""Checks for the names and references users give: DNS labels, image references, env var names."""

from __future__ import annotations

import re

from dockyard.domain.errors import InvalidInput

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_PORT_NAME = re.compile(r"(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*")  # IANA service name: a letter, no "--"
RESERVED_SYSTEMS = ("default", "kube-system", "kube-public", "kube-node-lease")
# distribution/reference, restricted to lower case outside the tag (no "uppercase host junk").
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?))*(?::[0-9]{1,5})?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def dns_label(field: str, value: str, *, max_length: int = 63, letter_first: bool = False) -> str:
    """``value`` if it is a DNS label (a-z, 0-9, '-', not at the ends) of at most ``max_length``;
    with ``letter_first`` also starting with a letter (DNS-1035, what a Service name must be)."""
    pattern = _DNS_1035 if letter_first else _DNS_LABEL
    if not isinstance(value, str) or len(value) > max_length or not pattern.fullmatch(value):
        start = "start with a letter, then hold" if letter_first else "be a DNS label:"
        raise InvalidInput(field, f"{value!r} must {start} lower-case letters, digits and '-', at most {max_length}")
    return value


def port_name(field: str, value: str) -> str:
    """An IANA service name: at most 15 of a-z, 0-9 and single '-', with at least one letter."""
    if not isinstance(value, str) or len(value) > 15 or not _PORT_NAME.fullmatch(value):
        raise InvalidInput(field, f"{value!r} must be a port name such as http or grpc-admin (a letter, at most 15)")
    return value


def system_name(field: str, value: str) -> str:
    """A system's name: a DNS label, and not a namespace Kubernetes itself uses."""
    dns_label(field, value)
    if value in RESERVED_SYSTEMS or value.startswith("kube-"):
        raise InvalidInput(field, f"{value!r} is reserved by Kubernetes; choose another system name")
    return value


def repository(field: str, value: str) -> str:
    """An image repository without tag or digest, e.g. ``registry.local:5000/shop/web``."""
    if not isinstance(value, str) or len(value) > 255 or not _REPOSITORY.fullmatch(value):
        raise InvalidInput(field, f"{value!r} is not an image repository such as registry.local:5000/shop/web")
    return value


def image(field: str, value: str) -> str:
    """A full image reference ``repository[:tag][@sha256:digest]`` with a tag or a digest."""
    if not isinstance(value, str) or not value or value != value.strip() or " " in value:
        raise InvalidInput(field, f"{value!r} is not an image reference (no spaces allowed)")
    rest, _, digest = value.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise InvalidInput(field, f"{digest!r} is not a sha256 digest")
    repo, tag = rest, ""
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        repo, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidInput(field, f"{tag!r} is not an image tag")
    if not tag and not digest:
        raise InvalidInput(field, f"{value!r} needs a tag or a digest, e.g. {value}:1.0")
    repository(field, repo)
    return value


def env_name(field: str, value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise InvalidInput(field, f"{value!r} is not an environment variable name")
    return value


def text(field: str, value: object, *, max_length: int, min_length: int = 0) -> str:
    """Free text (a description, a reason): a string of at most ``max_length`` characters without
    control characters but newline and tab (PostgreSQL refuses NUL; terminals misread the others)."""
    if not isinstance(value, str) or not min_length <= len(value) <= max_length:
        raise InvalidInput(field, f"{field} must be text of {min_length} to {max_length} characters")
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        raise InvalidInput(field, f"{field} must not hold control characters")
    return value
