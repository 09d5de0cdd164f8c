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
