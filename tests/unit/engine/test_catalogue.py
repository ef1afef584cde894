"""The catalogue is the single list of obligations: it matches the API's ids and its data is sound."""

from __future__ import annotations

import pytest

from gpai_operator.api.copyright import CopyrightPolicySpec
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.engine.catalogue import (
    CATALOGUE,
    COPYRIGHT_POLICY_FIELDS,
    DOWNSTREAM_INFORMATION_FIELDS,
    TECHNICAL_DOCUMENTATION_FIELDS,
    TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS,
)
from gpai_operator.engine.fields import is_known

from .builders import NOW, cluster, frontier, verdict


def test_catalogue_ids_are_the_ids_a_policy_may_list():
    assert tuple(o.id for o in CATALOGUE) == POLICY_OBLIGATION_IDS


def test_every_obligation_cites_its_legal_basis_and_says_how_to_fix_it():
    for obligation in CATALOGUE:
        assert obligation.basis.startswith(("Art.", "CoP")), obligation.id
        assert obligation.title, obligation.id
        assert obligation.fix, obligation.id


@pytest.mark.parametrize(
    "paths",
    [
        TECHNICAL_DOCUMENTATION_FIELDS,
        TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS,
        DOWNSTREAM_INFORMATION_FIELDS,
    ],
)
def test_documentation_field_lists_name_real_fields(paths):
    assert all(is_known(ModelDocumentationSpec, p) for p in paths)


def test_copyright_field_list_names_real_fields():
    assert all(is_known(CopyrightPolicySpec, p) for p in COPYRIGHT_POLICY_FIELDS)


def test_field_lists_are_the_complete_annexes():
    # OBLIGATIONS.md, additions of 2026-11-30, "Annex XI and XII, complete", in its order.
    assert TECHNICAL_DOCUMENTATION_FIELDS == (
        "general.legalName",
        "general.modelName",
        "general.releaseDate",
        "properties.architecture",
        "properties.parameterCount",
        "properties.inputModalities",
        "properties.outputModalities",
        "distribution.channels",
        "distribution.license",
        "use.acceptableUsePolicy",
        "use.intendedUses",
        "use.integrationSystems",
        "use.integrationMeans",
        "training.designSpecification",
        "data.types",
        "data.provenance",
        "data.acquisition",
        "data.dataPoints.count",
        "data.scope",
        "data.curation",
        "data.unsuitableContentMeasures",
        "data.biasMeasures",
        "compute.trainingTimeDays",
        "compute.trainingFlops",
        "compute.methodology",
        "energy.trainingMWh or energy.notAvailableReason",
    )
    assert DOWNSTREAM_INFORMATION_FIELDS == (
        "general.releaseDate",
        "properties.architecture",
        "properties.parameterCount",
        "properties.inputModalities[].maxSize",
        "properties.outputModalities[].maxSize",
        "distribution.channels",
        "distribution.license",
        "use.acceptableUsePolicy",
        "use.intendedUses",
        "use.integrationSystems",
        "use.integrationMeans",
        "data.types",
        "data.provenance",
        "data.curation",
        "contact",
    )
    # "where applicable" in Annex XII: optional
    assert "use.requiredHardware" not in DOWNSTREAM_INFORMATION_FIELDS
    assert "use.requiredSoftware" not in DOWNSTREAM_INFORMATION_FIELDS


def test_a_model_is_judged_on_every_obligation_in_catalogue_order():
    shown = [o.id for o in verdict(cluster(frontier())).obligations]
    assert shown == list(POLICY_OBLIGATION_IDS)


def test_the_complete_frontier_model_is_compliant():
    result = verdict(cluster(frontier()), now=NOW)
    assert result.compliant
    assert result.unmet == ()
