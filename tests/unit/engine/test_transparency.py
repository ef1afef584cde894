"""transparency/technical-documentation and transparency/downstream-information (Art. 53(1)(a)-(b))."""

from __future__ import annotations

from .builders import (
    cluster,
    documentation,
    excluding,
    frontier,
    obligation,
    open_weights_model,
    patched,
    policy,
    small_model,
    status,
    without,
)

TECH = "transparency/technical-documentation"
DOWNSTREAM = "transparency/downstream-information"


def test_complete_documentation_of_the_current_version_meets_both():
    state = cluster(frontier())
    assert status(state, TECH) == "Met"
    assert status(state, DOWNSTREAM) == "Met"


def test_without_documentation_both_are_missing_and_the_message_says_what_to_create():
    state = cluster(excluding(frontier(), "ModelDocumentation"))
    found = obligation(state, TECH)
    assert found.status == "Missing"
    assert found.message.startswith("GPAIModel ml/acme version 3.1: transparency/technical-documentation")
    assert "Art. 53(1)(a)" in found.message
    assert 'create a ModelDocumentation in namespace ml with modelRef.name acme and modelVersion "3.1"' in (
        found.message
    )
    assert status(state, DOWNSTREAM) == "Missing"


def test_documentation_of_another_version_does_not_count():
    state = cluster(excluding(frontier(), "ModelDocumentation"), documentation(version="3.0"))
    found = obligation(state, TECH)
    assert found.status == "Missing"
    assert "only for version 3.0, which does not count for 3.1" in found.message


def test_a_missing_field_makes_it_incomplete_and_is_named():
    doc = without(documentation(), "spec.general.legalName", "spec.compute.methodology")
    found = obligation(cluster(frontier(), doc), TECH)
    assert found.status == "Incomplete"
    assert "missing general.legalName, compute.methodology" in found.message
    assert "set general.legalName, compute.methodology in ModelDocumentation ml/acme-3.1" in found.message


def test_empty_lists_count_as_missing():
    doc = patched(documentation(), spec__use__intendedUses=[])
    found = obligation(cluster(frontier(), doc), TECH)
    assert found.status == "Incomplete"
    assert "use.intendedUses" in found.message


def test_energy_may_be_given_or_its_absence_explained():
    no_energy = patched(documentation(), spec__energy={})
    found = obligation(cluster(frontier(), no_energy), TECH)
    assert found.status == "Incomplete"
    assert "energy.trainingMWh or energy.notAvailableReason" in found.message
    explained = patched(documentation(), spec__energy={"notAvailableReason": "shared cluster, not metered"})
    assert status(cluster(frontier(), explained), TECH) == "Met"


def test_systemic_risk_section_is_required_only_for_systemic_risk_models():
    doc = without(documentation(model_name="mini"), "spec.systemicRisk")
    assert status(cluster(small_model(), doc), TECH, name="mini") == "Met"
    found = obligation(cluster(frontier(), without(documentation(), "spec.systemicRisk")), TECH)
    assert found.status == "Incomplete"
    assert "systemicRisk.evaluationStrategy" in found.message


def test_downstream_information_needs_a_max_size_on_every_modality():
    doc = patched(
        documentation(),
        spec__properties__inputModalities=[
            {"modality": "text", "maxSize": "128000 tokens"},
            {"modality": "image"},
        ],
    )
    state = cluster(frontier(), doc)
    found = obligation(state, DOWNSTREAM)
    assert found.status == "Incomplete"
    assert "properties.inputModalities[1].maxSize" in found.message
    assert status(state, TECH) == "Met"  # Annex XI does not ask for the sizes


def test_downstream_information_without_any_output_modality_names_the_path():
    doc = patched(documentation(), spec__properties__outputModalities=[])
    found = obligation(cluster(frontier(), doc), DOWNSTREAM)
    assert found.status == "Incomplete"
    assert "properties.outputModalities[].maxSize" in found.message


def test_downstream_information_needs_a_public_contact():
    found = obligation(cluster(frontier(), without(documentation(), "spec.contact")), DOWNSTREAM)
    assert found.status == "Incomplete"
    assert "missing contact" in found.message


def test_the_newest_documentation_of_the_version_counts():
    others = excluding(frontier(), "ModelDocumentation")
    older_complete = documentation(name="acme-3.1-v1", last_updated="2026-01-10")
    newer_incomplete = without(documentation(name="acme-3.1-v2", last_updated="2026-10-01"), "spec.contact")
    found = obligation(cluster(others, older_complete, newer_incomplete), DOWNSTREAM)
    assert found.status == "Incomplete"
    assert "ModelDocumentation ml/acme-3.1-v2 (lastUpdated 2026-10-01)" in found.message
    newest_complete = documentation(name="acme-3.1-v3", last_updated="2026-11-01")
    assert status(cluster(others, older_complete, newer_incomplete, newest_complete), DOWNSTREAM) == "Met"


def test_a_policy_can_require_more_fields():
    demanding = policy(
        "demanding",
        additionalRequiredFields=[
            {"obligation": TECH, "fields": ["general.releaseDate", "general.euReleaseDate"]}
        ],
    )
    found = obligation(cluster(frontier(), demanding), TECH)
    assert found.status == "Incomplete"
    assert "missing general.euReleaseDate" in found.message  # releaseDate is set, euReleaseDate is not


def test_a_policy_requiring_a_field_that_does_not_exist_is_named_as_the_cause():
    typo = policy(
        "typo", additionalRequiredFields=[{"obligation": DOWNSTREAM, "fields": ["use.intendedUse"]}]
    )
    found = obligation(cluster(frontier(), typo), DOWNSTREAM)
    assert found.status == "Incomplete"
    assert (
        "the policy requires use.intendedUse, which the kind does not have (fix the policy)" in found.message
    )


def test_open_source_exempt_models_are_exempt_from_both():
    state = cluster(open_weights_model())
    assert status(state, TECH, name="openmodel") == "Exempt"
    assert status(state, DOWNSTREAM, name="openmodel") == "Exempt"
    assert "open-source" in obligation(state, TECH, name="openmodel").message
