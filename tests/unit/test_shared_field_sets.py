"""Validated objects share one set of field names per shape (memory), and nothing else changes."""

from __future__ import annotations

from gpai_operator import objects
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.engine import ClusterState
from tests.unit.engine import builders as b


def test_equal_shapes_share_one_fields_set_and_read_the_same():
    state = ClusterState()
    first, second = b.documentation(), b.documentation(name="second-doc")
    objects.apply(state, first)
    objects.apply(state, second)
    one, other = (
        state.documentation[(b.NS, name)].spec for name in (first["metadata"]["name"], "second-doc")
    )
    assert one.general is not None
    assert other.general is not None
    assert one.general.__pydantic_fields_set__ is other.general.__pydantic_fields_set__
    for shared, obj in ((one, first), (other, second)):
        alone = ModelDocumentationSpec.model_validate(obj["spec"])  # validated, not shared
        assert shared == alone
        assert shared.model_dump(exclude_unset=True) == alone.model_dump(exclude_unset=True)


def test_a_copy_with_changes_takes_its_own_set():
    state = ClusterState()
    objects.apply(state, b.documentation())
    objects.apply(state, b.documentation(name="second-doc"))
    spec = state.documentation[(b.NS, "second-doc")].spec
    assert spec.general is not None
    shared = spec.general.__pydantic_fields_set__
    before = set(shared)
    changed = spec.general.model_copy(update={"model_name": "renamed"})
    assert changed.__pydantic_fields_set__ is not shared
    assert shared == before
