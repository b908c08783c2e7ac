"""Names that become keys and file names are checked once and made path-safe."""

from __future__ import annotations

import pytest

from gruponos_ext.core.names import MAX_NAME_LENGTH, InvalidNameError, check_name, path_component


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "is empty"),
        ("x" * 300, "300 characters long"),
        ("job\nname", "control characters"),
        ("job\x00", "control characters"),
        (" job", "white space"),
    ],
)
def test_names_that_can_never_be_names_are_refused_with_one_line(name: str, fragment: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        check_name(name, what="job", option="--job")
    message = caught.value.message
    assert fragment in message and message.startswith("--job: ")
    assert "\n" not in message and caught.value.exit_code == 2
    assert "x" * 100 not in message  # a long value is described, not echoed


@pytest.mark.parametrize("name", ["wms-incremental", "a/b", "..", "tap-x target-y", "café"])
def test_names_meltano_allows_are_accepted_unchanged(name: str) -> None:
    assert check_name(name, what="job") == name


@pytest.mark.parametrize(
    "name", ["x/../../y", "..", ".", "/etc/passwd", "a" * MAX_NAME_LENGTH, "-rf", "job name"]
)
def test_a_path_component_never_leaves_its_directory(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    component = path_component(name)
    assert "/" not in component and component not in (".", "..")
    assert not component.startswith("-")
    assert len(component.encode()) <= 130
    assert (tmp_path / component).resolve().parent == tmp_path.resolve()


def test_distinct_names_get_distinct_components_and_safe_names_stay_readable() -> None:
    assert path_component("wms-incremental") == "wms-incremental"
    assert path_component("a/b") != path_component("a_b")
    assert path_component("a" * 150 + "1") != path_component("a" * 150 + "2")
