"""Component templates (domain/templates.py): parameters, substitution, checks, golden renders of
every built-in template (tests/unit/domain/golden/templates/NAME.json; rewrite them with
DOCKYARD_UPDATE_GOLDEN=1 and read the diff)."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import CATALOG, Flavor, Size
from dockyard.domain.render import GroupRef, render
from dockyard.domain.template_catalog import BUILTIN_TEMPLATES
from dockyard.domain.templates import (
    Parameter,
    Template,
    adoption,
    make_spec,
    parse_template,
    resolve_parameters,
    substitute,
)
from dockyard.domain.versions import TemplateOrigin, load_spec

GOLDEN = Path(__file__).parent / "golden" / "templates"
IMAGE = "registry.local/shop/web:1.0"
REQUIRED = {"java-web": {"image": IMAGE}, "python-worker": {"image": IMAGE}, "nginx-static": {}}

PARAMS = (
    Parameter("name", "string", "a name", "web"),
    Parameter("count", "int", "how many", 2, minimum=1, maximum=10),
    Parameter("mode", "enum", "a mode", "fast", choices=("fast", "safe")),
    Parameter("size", "flavor", "a flavor", "small"),
    Parameter("image", "image", "the image"),
    Parameter("debug", "bool", "debug", False),
)


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES, ids=lambda t: t.name)
def test_every_built_in_template_renders_to_its_golden_spec(template: Template) -> None:
    spec = make_spec(template, REQUIRED[template.name], catalog=CATALOG)
    rendered = {
        "spec": spec.masked(),
        "objects": render(GroupRef("shop", "web", "prod"), 1, spec),
    }
    path = GOLDEN / f"{template.name}.json"
    if os.environ.get("DOCKYARD_UPDATE_GOLDEN"):
        path.write_text(json.dumps(rendered, indent=2, sort_keys=True) + "\n")
    assert json.loads(path.read_text()) == json.loads(json.dumps(rendered)), f"{path} differs"


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES, ids=lambda t: t.name)
def test_every_built_in_template_passes_the_checks_an_author_gets(template: Template) -> None:
    again = parse_template(template.to_data(), name=template.name, version=1, catalog=CATALOG)
    assert again.parameters == template.parameters
    assert all(p.description for p in template.parameters)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"image": IMAGE, "count": "3"}, "parameters.count"),
        ({"image": IMAGE, "count": 11}, "parameters.count"),
        ({"image": IMAGE, "count": 0}, "parameters.count"),
        ({"image": IMAGE, "count": True}, "parameters.count"),
        ({"image": IMAGE, "mode": "slow"}, "parameters.mode"),
        ({"image": IMAGE, "size": "huge"}, "parameters.size"),
        ({"image": "not an image"}, "parameters.image"),
        ({"image": "registry.local/shop/web"}, "parameters.image"),  # no tag
        ({"image": IMAGE, "debug": "yes"}, "parameters.debug"),
        ({"image": IMAGE, "name": 7}, "parameters.name"),
        ({"image": IMAGE, "nmae": "typo"}, "parameters.nmae"),  # never silently dropped
        ({}, "parameters.image"),  # required
        (["image"], "parameters"),
    ],
)
def test_each_kind_of_bad_parameter_is_refused_with_its_path(given: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        resolve_parameters(PARAMS, given, CATALOG)
    assert e.value.field == field


def test_defaults_fill_the_parameters_not_given() -> None:
    assert resolve_parameters(PARAMS, {"image": IMAGE, "count": 3}, CATALOG) == {
        "name": "web",
        "count": 3,
        "mode": "fast",
        "size": "small",
        "image": IMAGE,
        "debug": False,
    }


@pytest.mark.parametrize(
    ("body", "values", "expected"),
    [
        ("${n}", {"n": 3}, 3),  # a whole placeholder keeps the type
        ("${b}", {"b": True}, True),
        ("x-${n}", {"n": 3}, "x-3"),  # inside text: text
        ("${b}!", {"b": False}, "false!"),
        ("$${n} and $$HOME", {"n": 3}, "${n} and $HOME"),  # $$ is a literal $
        ({"env": {"N": "${n}"}}, {"n": 3}, {"env": {"N": "3"}}),  # env values stay text
        ({"pre_stop": ["sleep", "${n}"]}, {"n": 3}, {"pre_stop": ["sleep", "3"]}),
        ({"instances": "${n}", "ports": [{"port": "${n}"}]}, {"n": 3}, {"instances": 3, "ports": [{"port": 3}]}),
        ({"${n}": "key"}, {"n": 3}, {"${n}": "key"}),  # keys are never substituted
    ],
)
def test_substitution(body: Any, values: dict[str, Any], expected: Any) -> None:
    assert substitute(body, values) == expected


BODY: dict[str, Any] = {
    "image": "${image}",
    "flavor": "${size}",
    "instances": "${count}",
    "env": {"NAME": "${name}", "MODE": "${mode}", "DEBUG": "${debug}"},
}
RAW: dict[str, Any] = {"description": "test", "parameters": [p.to_data() for p in PARAMS], "body": BODY}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parameters": [{"name": "Image", "type": "image"}]}, "parameters[0].name"),
        ({"parameters": [{"name": "image", "type": "url"}]}, "parameters[0].type"),
        ({"parameters": [{"name": "n", "type": "int", "default": "1"}]}, "parameters[0].default"),
        ({"parameters": [{"name": "n", "type": "int", "minimum": 5, "maximum": 1}]}, "parameters[0].maximum"),
        ({"parameters": [{"name": "n", "type": "string", "minimum": 5}]}, "parameters[0].minimum"),
        ({"parameters": [{"name": "m", "type": "enum"}]}, "parameters[0].choices"),
        ({"parameters": [{"name": "m", "type": "enum", "choices": ["a"], "default": "b"}]}, "parameters[0].default"),
        ({"parameters": [{"name": "f", "type": "flavor", "default": "huge"}]}, "parameters[0].default"),
        ({"parameters": [{"name": "i", "type": "image"}, {"name": "i", "type": "image"}]}, "parameters[1].name"),
        ({"body": {**BODY, "env": {"X": "${nope}"}}}, "body.env.X"),
        ({"body": {**BODY, "secret_env": {"X": "y"}}}, "body.secret_env"),
        ({"body": {**BODY, "instances": "many"}}, "body.instances"),
        ({"body": {**BODY, "ports": [{"name": "http", "port": 80}], "readiness": {"port": 81}}}, "body.readiness.port"),
        ({"body": {**BODY, "instances": "${name}"}}, "parameters.name"),  # a string where an int goes
        ({"body": []}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_template_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_template({**RAW, **change}, name="t", version=1, catalog=CATALOG)
    assert e.value.field == field


def test_a_version_made_from_a_template_records_the_template_version_and_its_parameters() -> None:
    template = parse_template(RAW, name="t", version=2, owner="shop", catalog=CATALOG)
    spec = make_spec(template, {"image": IMAGE, "count": 3}, catalog=CATALOG)
    assert spec.instances == 3
    assert dict(spec.env) == {"NAME": "web", "MODE": "fast", "DEBUG": "false"}
    assert spec.template == TemplateOrigin(
        "t",
        2,
        (("count", 3), ("debug", False), ("image", IMAGE), ("mode", "fast"), ("name", "web"), ("size", "small")),
        owner="shop",
    )
    assert load_spec(spec.to_data()) == spec  # stored and read back
    assert spec.masked()["template"]["parameters"]["count"] == 3  # shown in history and diffs
    assert spec.with_changes(instances=5).template == spec.template  # a scale keeps it
    assert spec.with_changes(image="registry.local/shop/web:2").template is None  # hand-made now


def test_a_parameter_that_makes_a_field_invalid_is_named() -> None:
    raw = {**RAW, "body": {**BODY, "image": "registry.local/${name}:1"}}
    template = parse_template(raw, name="t", version=1, catalog=CATALOG)
    with pytest.raises(InvalidInput) as e:
        make_spec(template, {"image": IMAGE, "name": "Upper Case"}, catalog=CATALOG)
    assert e.value.field == "parameters.name"


def test_a_flavor_parameter_takes_the_catalogs_flavors() -> None:
    catalog = {**CATALOG, "gpu": Flavor("gpu", 4000, 16384, (("nvidia.com/gpu", 1),))}
    template = parse_template(RAW, name="t", version=1, catalog=catalog)
    spec = make_spec(template, {"image": IMAGE, "size": "gpu"}, catalog=catalog)
    assert spec.size == Size(4000, 16384, (("nvidia.com/gpu", 1),))


def test_adoption_shows_the_diff_a_new_version_would_make_with_the_groups_parameters() -> None:
    v1 = parse_template(RAW, name="t", version=1, catalog=CATALOG)
    current = make_spec(v1, {"image": IMAGE, "count": 3}, catalog=CATALOG)
    raw2 = {**RAW, "body": {**BODY, "env": {**BODY["env"], "NEW": "1"}}}
    v2 = parse_template(raw2, name="t", version=2, catalog=CATALOG)
    seen = adoption(current, v2, catalog=CATALOG)
    assert seen.error is None
    assert seen.changes["env.NEW"] == (None, "1")
    assert set(seen.changes) == {"env.NEW", "template"}  # the count (3) is kept
    raw3 = {**RAW, "parameters": [p.to_data() for p in PARAMS if p.name != "count"], "body": {**BODY, "instances": 1}}
    v3 = parse_template(raw3, name="t", version=3, catalog=CATALOG)
    refused = adoption(current, v3, catalog=CATALOG)
    assert refused.error is not None
    assert refused.error[0] == "parameters.count"
