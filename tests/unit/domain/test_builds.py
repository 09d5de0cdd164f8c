"""Builds' pure decisions as tables: the source URL policy (SSRF), references, Dockerfile paths,
build args, the state machine, redaction and the registry cleanup's choice."""

from __future__ import annotations

import pytest

from dockyard.domain.builds import (
    Image,
    advance,
    check_build_args,
    check_dockerfile,
    check_ref,
    first_base,
    literal_address,
    parse_source_url,
    plan_gc,
    redact,
    source_problem,
)
from dockyard.domain.errors import InvalidInput

ROOTS = ["/srv/git"]
SERVICES = ["10.96.0.0/12"]

# url, what its host resolves to, refused because (substring) or None
SOURCES: list[tuple[str, list[str], str | None]] = [
    ("https://git.example.com/shop/web.git", ["93.184.216.34"], None),
    ("ssh://git@git.example.com:2222/shop/web.git", ["93.184.216.34"], None),
    ("git@github.com:shop/web.git", ["140.82.121.4"], None),
    ("https://git.example.com/x.git", [], None),  # does not resolve: the clone fails by itself
    ("file:///srv/git/web", [], None),
    ("/srv/git/web", [], None),
    ("https://git.internal/x.git", ["10.1.2.3"], None),  # a private network outside the service network
    ("http://127.0.0.1/x.git", ["127.0.0.1"], "127.0.0.0/8"),
    ("http://127.1.2.3/x.git", ["127.1.2.3"], "127.0.0.0/8"),
    ("http://localhost/x", [], "loopback"),
    ("http://app.localhost/x", [], "loopback"),
    ("https://evil.example.com/x", ["127.0.0.1"], "127.0.0.0/8"),  # a name resolving to loopback
    ("https://evil.example.com/x", ["93.184.216.34", "169.254.169.254"], "169.254.0.0/16"),  # any address
    ("http://169.254.169.254/latest", ["169.254.169.254"], "169.254.0.0/16"),
    ("http://[::1]/x", ["::1"], "::1/128"),
    ("http://[::ffff:127.0.0.1]/x", ["::ffff:127.0.0.1"], "127.0.0.0/8"),
    ("http://[fe80::1]/x", ["fe80::1"], "fe80::/10"),
    ("http://10.96.0.10/x", ["10.96.0.10"], "10.96.0.0/12"),
    ("http://0.0.0.0/x", ["0.0.0.0"], "0.0.0.0/8"),  # noqa: S104
    ("https://u:secret@git.example.com/x", ["93.184.216.34"], "credentials"),
    ("file:///etc/passwd", [], "allowed root"),
    ("file:///srv/gitx/web", [], "allowed root"),
    ("file:///srv/git/../etc", [], "without '..'"),
    ("file:///srv/git", [], None),
]


@pytest.mark.parametrize(("url", "addresses", "why"), SOURCES)
def test_source_policy(url: str, addresses: list[str], why: str | None) -> None:
    problem = source_problem(parse_source_url(url), addresses=addresses, allowed_roots=ROOTS, blocked_networks=SERVICES)
    if why is None:
        assert problem is None
    else:
        assert problem is not None
        assert why in problem


@pytest.mark.parametrize(
    "url",
    [
        "",
        "-uhelp",
        "ext::sh -c touch% /tmp/x",
        "ftp://host/x",
        "file://otherhost/srv/git",
        "https:///nohost",
        "ssh://-oProxyCommand=touch/x",
        "-oProxyCommand=x:repo",
        "no url at all",
        "x" * 2001,
    ],
)
def test_malformed_sources_are_refused_naming_source(url: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_source_url(url)
    assert e.value.field == "source"


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("::1", "::1"), ("example.com", None)],
)
def test_literal_addresses(host: str, address: str | None) -> None:
    assert literal_address(host) == address


@pytest.mark.parametrize(
    ("kind", "ref", "ok"),
    [
        ("commit", "abc1234", True),
        ("commit", "a" * 40, True),
        ("commit", "abc12", False),
        ("commit", "ABC1234", False),
        ("commit", "--upload-pack=x", False),
        ("branch", "main", True),
        ("branch", "feature/x-1", True),
        ("branch", "-x", False),
        ("branch", "a..b", False),
        ("branch", "x.lock", False),
        ("tag", "v1.2.3", True),
        ("tag", "", False),
        ("sha", "abc1234", False),
    ],
)
def test_references(kind: str, ref: str, ok: bool) -> None:
    if ok:
        assert check_ref(kind, ref) == (kind, ref)
    else:
        with pytest.raises(InvalidInput):
            check_ref(kind, ref)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("Dockerfile", True),
        ("docker/Dockerfile.prod", True),
        ("./Dockerfile", True),
        ("../Dockerfile", False),
        ("a/../../Dockerfile", False),
        ("/etc/passwd", False),
        ("", False),
        ("a\\b", False),
    ],
)
def test_dockerfile_paths(path: str, ok: bool) -> None:
    if ok:
        assert check_dockerfile(path)
    else:
        with pytest.raises(InvalidInput) as e:
            check_dockerfile(path)
        assert e.value.field == "dockerfile"


def test_build_args_are_sorted_names_and_one_line_values() -> None:
    assert check_build_args({"B": "2", "A": "1"}) == (("A", "1"), ("B", "2"))
    assert check_build_args(None) == ()
    for bad in ({"1A": "x"}, {"A": "x\ny"}, {"A": 1}):
        with pytest.raises(InvalidInput):
            check_build_args(bad)


TRANSITIONS = [
    ("queued", "cloning", True),
    ("queued", "cancelled", True),
    ("queued", "building", False),
    ("cloning", "building", True),
    ("cloning", "succeeded", True),  # the image of the same commit is reused
    ("building", "pushing", True),
    ("building", "succeeded", False),
    ("pushing", "succeeded", True),
    ("pushing", "failed", True),
    ("building", "cancelled", True),
    ("succeeded", "failed", False),
    ("failed", "queued", False),
    ("cancelled", "cloning", False),
]


@pytest.mark.parametrize(("frm", "to", "ok"), TRANSITIONS)
def test_state_machine(frm: str, to: str, ok: bool) -> None:
    if ok:
        assert advance(frm, to) == to
    else:
        with pytest.raises(ValueError, match="cannot go"):
            advance(frm, to)


def test_redaction_replaces_every_secret() -> None:
    assert redact("login tok3n then tok3n", ["tok3n"]) == "login *** then ***"
    assert redact("abc", ["", "ab"]) == "abc"  # too short to redact safely


def test_first_base_skips_flags() -> None:
    assert first_base("# c\nARG X\nFROM --platform=linux/amd64 r/base:1 AS b\nFROM other\n") == "r/base:1"
    assert first_base("RUN x") == ""


def _img(tag: str) -> Image:
    return Image(tag=tag, digest=f"sha256:{tag}", size=1)


R = "reg/shop/web"
# images, versions per group, current per group, recent builds, keep → deleted
GC: list[tuple[list[str], dict[str, list[tuple[int, str]]], dict[str, int | None], list[str], int, list[str]]] = [
    # The last version by digest kept, older ones deleted with keep 1.
    (
        ["a", "b", "c"],
        {"prod": [(1, f"{R}@sha256:a"), (2, f"{R}@sha256:b")]},
        {"prod": 2},
        [],
        1,
        ["sha256:a", "sha256:c"],
    ),
    # keep 2: versions 1 and 2 both kept.
    (["a", "b", "c"], {"prod": [(1, f"{R}@sha256:a"), (2, f"{R}@sha256:b")]}, {"prod": 2}, [], 2, ["sha256:c"]),
    # The running version is kept even when older than the last N (a rollback made it current).
    (
        ["a", "b", "c"],
        {"prod": [(1, f"{R}@sha256:a"), (2, f"{R}@sha256:b"), (3, f"{R}@sha256:c")]},
        {"prod": 1},
        [],
        1,
        ["sha256:b"],
    ),
    # By tag.
    (["a", "b"], {"prod": [(1, f"{R}:a"), (2, f"{R}:b")]}, {"prod": 2}, [], 1, ["sha256:a"]),
    # Each group keeps its own last N.
    (["a", "b", "c"], {"prod": [(1, f"{R}@sha256:a")], "test": [(1, f"{R}@sha256:b")]}, {}, [], 1, ["sha256:c"]),
    # A recent build not yet deployed is kept.
    (["a", "b"], {"prod": [(1, f"{R}@sha256:a")]}, {"prod": 1}, ["sha256:b"], 1, []),
    # No versions, no builds: everything goes.
    (["a"], {}, {}, [], 3, ["sha256:a"]),
]


@pytest.mark.parametrize(("tags", "versions", "current", "builds", "keep", "deleted"), GC)
def test_gc_choice(
    tags: list[str],
    versions: dict[str, list[tuple[int, str]]],
    current: dict[str, int | None],
    builds: list[str],
    keep: int,
    deleted: list[str],
) -> None:
    plan = plan_gc([_img(t) for t in tags], versions=versions, current=current, recent_builds=builds, keep=keep)
    assert list(plan.delete) == deleted
    assert set(plan.keep) | set(plan.delete) == {f"sha256:{t}" for t in tags}


def test_gc_keeps_at_least_one() -> None:
    with pytest.raises(InvalidInput):
        plan_gc([], versions={}, current={}, recent_builds=[], keep=0)
