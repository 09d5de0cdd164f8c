import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import flavor


def test_small_is_one_core_and_a_gibibyte_with_requests_equal_to_limits() -> None:
    small = flavor("flavor", "small")
    assert small.label == "small/1C1024M"
    assert small.resources() == {
        "requests": {"cpu": "1000m", "memory": "1024Mi"},
        "limits": {"cpu": "1000m", "memory": "1024Mi"},
    }
    assert flavor("flavor", "tiny").label == "tiny/0.25C256M"


def test_unknown_flavor_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="unknown flavor 'huge'; known: tiny, small, medium, large, xlarge"):
        flavor("flavor", "huge")


# --- the catalog admins manage (domain/flavors.py) -------------------------------------------------
from typing import Any  # noqa: E402

from dockyard.domain.flavors import (  # noqa: E402
    CATALOG,
    Flavor,
    Size,
    ceiling,
    check_offered,
    parse_flavor,
    shrinkage,
)
from dockyard.domain.versions import load_spec, parse_spec  # noqa: E402

GPU: dict[str, Any] = {
    "name": "gpu-small",
    "cpu_millis": 4000,
    "memory_mib": 16384,
    "extended": {"nvidia.com/gpu": 1},
    "clusters": ["local"],
    "pools": ["gpu"],
    "description": "one GPU",
}


def test_a_flavor_with_an_extended_resource_asks_for_it_as_request_and_limit() -> None:
    made = parse_flavor(GPU)
    assert made.label == "gpu-small/4C16384M+1nvidia.com/gpu"
    assert made.resources()["limits"] == {"cpu": "4000m", "memory": "16384Mi", "nvidia.com/gpu": "1"}
    assert made.resources()["requests"] == made.resources()["limits"]
    assert parse_flavor(made.to_data()) == made


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Big"}, "name"),
        ({"name": ""}, "name"),
        ({"cpu_millis": 0}, "cpu_millis"),
        ({"cpu_millis": "1000"}, "cpu_millis"),
        ({"cpu_millis": True}, "cpu_millis"),
        ({"memory_mib": -1}, "memory_mib"),
        ({"memory_mib": None}, "memory_mib"),
        ({"extended": {"gpu": 1}}, "extended.gpu"),
        ({"extended": {"kubernetes.io/foo": 1}}, "extended.kubernetes.io/foo"),
        ({"extended": {"nvidia.com/gpu": 0}}, "extended.nvidia.com/gpu"),
        ({"extended": ["nvidia.com/gpu"]}, "extended"),
        ({"clusters": "local"}, "clusters"),
        ({"clusters": ["Local"]}, "clusters[0]"),
        ({"pools": ["gpu", "gpu"]}, "pools"),
        ({"description": "\x00"}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_flavor_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_flavor({**GPU, **change})
    assert e.value.field == field


@pytest.mark.parametrize(
    ("new", "lost"),
    [
        ({}, []),
        ({"cpu_millis": 8000, "memory_mib": 32768}, []),
        ({"cpu_millis": 2000}, ["cpu_millis"]),
        ({"memory_mib": 8192}, ["memory_mib"]),
        ({"extended": {}}, ["extended.nvidia.com/gpu"]),
        ({"extended": {"nvidia.com/gpu": 2, "example.com/fpga": 1}}, []),
        ({"clusters": []}, []),  # every cluster: more, not less
        ({"clusters": ["local", "other"]}, []),
        ({"clusters": ["other"]}, ["clusters"]),
        ({"pools": ["gpu-2"]}, ["pools"]),
        ({"cpu_millis": 1000, "memory_mib": 1024}, ["cpu_millis", "memory_mib"]),
    ],
)
def test_shrinkage_is_whatever_an_update_takes_away(new: dict[str, Any], lost: list[str]) -> None:
    assert shrinkage(parse_flavor(GPU), parse_flavor({**GPU, **new})) == lost


def test_from_everywhere_to_some_clusters_is_a_shrinkage() -> None:
    assert shrinkage(CATALOG["small"], Flavor("small", 1000, 1024, clusters=("local",))) == ["clusters"]


@pytest.mark.parametrize(
    ("clusters", "pool", "field"),
    [
        (["local"], "gpu", None),
        (["local", "other"], "gpu", "flavor"),
        (["local"], None, "flavor"),
        (["local"], "cpu", "flavor"),
    ],
)
def test_a_flavor_is_used_only_where_it_is_offered(clusters: list[str], pool: str | None, field: str | None) -> None:
    made = parse_flavor(GPU)
    if field is None:
        check_offered(made, clusters=clusters, pool=pool)
        return
    with pytest.raises(InvalidInput) as e:
        check_offered(made, clusters=clusters, pool=pool)
    assert e.value.field == field
    check_offered(CATALOG["small"], clusters=clusters, pool=pool)  # offered everywhere


def test_an_unknown_flavor_is_looked_up_in_the_catalog_given() -> None:
    catalog = {"gpu-small": parse_flavor(GPU)}
    assert flavor("flavor", "gpu-small", catalog).cpu_millis == 4000
    with pytest.raises(InvalidInput, match="known: gpu-small"):
        flavor("flavor", "small", catalog)


def test_the_ceiling_is_the_most_cpu_and_the_most_memory() -> None:
    assert ceiling([Size(8000, 1024), Size(1000, 65536)]) == Size(8000, 65536)


# --- versions keep the size they were made with --------------------------------------------------
SPEC = {"image": "registry.local/shop/web:1", "flavor": "small", "instances": 2}


def test_a_version_records_its_flavors_size_from_the_catalog_of_the_day() -> None:
    grown = {"small": Flavor("small", 2000, 2048)}
    made = parse_spec(SPEC, catalog=grown)
    assert made.size == Size(2000, 2048)
    stored = made.to_data()
    assert stored["size"] == {"cpu_millis": 2000, "memory_mib": 2048, "extended": {}}
    # Read back after the catalog changed again: the size it was made with, not the built-in one.
    assert load_spec(stored).resources()["limits"] == {"cpu": "2000m", "memory": "2048Mi"}
    assert load_spec(stored) == made


def test_a_version_stored_before_sizes_were_recorded_has_the_built_in_size() -> None:
    old = {**SPEC, "ports": [], "env": {}, "config_files": {}, "secret_env": {}}
    assert load_spec(old).size == Size(1000, 1024)


def test_a_scale_keeps_the_size_and_a_new_version_from_changes_takes_the_catalogs() -> None:
    made = parse_spec(SPEC)
    grown = {"small": Flavor("small", 2000, 2048)}
    assert made.with_changes(instances=5).size == Size(1000, 1024)  # a copy (scale, release split)
    assert made.with_changes(catalog=grown, image="registry.local/shop/web:2").size == Size(2000, 2048)
    assert made.with_changes(flavor="medium").size == Size(2000, 4096)


def test_a_spec_may_repeat_its_flavors_size_but_not_choose_another() -> None:
    shown = parse_spec(SPEC).masked()
    assert parse_spec(shown) == parse_spec(SPEC)  # as the API shows it, deployed again
    with pytest.raises(InvalidInput) as e:
        parse_spec({**SPEC, "size": {"cpu_millis": 64000, "memory_mib": 1024}})
    assert e.value.field == "size"
    with pytest.raises(InvalidInput) as e:
        parse_spec({**SPEC, "template": {"name": "java-web", "version": 1}})
    assert e.value.field == "template"


def test_a_version_of_a_flavor_since_deleted_still_loads_with_its_size() -> None:
    made = parse_spec({**SPEC, "flavor": "gpu-small"}, catalog={"gpu-small": parse_flavor(GPU)})
    assert load_spec(made.to_data()).resources()["limits"]["nvidia.com/gpu"] == "1"


def test_the_namespace_limit_range_caps_containers_at_the_catalogs_largest_not_the_built_in_one() -> None:
    from dockyard.domain.model import Quota
    from dockyard.domain.render import GroupRef, system_objects

    def cap(largest: Size | None) -> dict[str, str]:
        limits = next(
            o for o in system_objects(GroupRef("shop", "web", "prod"), Quota(), largest) if o["kind"] == "LimitRange"
        )
        return dict(limits["spec"]["limits"][0]["max"])

    assert cap(None) == {"cpu": "8000m", "memory": "16384Mi"}  # as before: the built-in xlarge
    assert cap(ceiling([*(f.size for f in CATALOG.values()), Size(32000, 8192)])) == {
        "cpu": "32000m",
        "memory": "16384Mi",
    }
