"""Warnings as kube-apiserver passes them on: single lines, shortened only when they would be cut."""

from __future__ import annotations

from gpai_operator.admission.messages import (
    ELLIPSIS,
    WARNING_RUNES,
    WARNINGS_TOTAL_RUNES,
    fit,
    one_line,
    pass_warning,
    warnings_for,
)
from gpai_operator.engine import WorkloadDecision


def decision(reasons: tuple[str, ...], **overrides: object) -> WorkloadDecision:
    fields: dict[str, object] = {
        "api_version": "apps/v1",
        "kind": "Deployment",
        "namespace": "ml",
        "name": "chat",
        "model": "acme-llm",
        "decision": "Warn",
        "unmet": tuple(f"ob/{i}" for i in range(len(reasons))),
        "compliance": "NonCompliant",
        "audited": False,
        "message": "Deployment ml/chat is allowed with a warning by policy p: it leaves n unmet:\n- a",
        "reasons": reasons,
    }
    fields.update(overrides)
    return WorkloadDecision(**fields)  # type: ignore[arg-type]


def test_warnings_that_fit_are_passed_whole() -> None:
    reasons = tuple(f"obligation {i}: " + "x" * 300 for i in range(5))

    warnings = warnings_for(decision(reasons))

    assert warnings[1:] == list(reasons)
    assert warnings[0].endswith("it leaves n unmet (in full: kubectl describe gpai acme-llm -n ml)")


def test_warnings_over_the_budget_are_each_shortened_at_a_word_boundary() -> None:
    reasons = tuple(f"obligation {i} is Missing: " + "word " * 120 for i in range(13))

    warnings = warnings_for(decision(reasons))

    assert sum(len(w) for w in warnings) <= WARNINGS_TOTAL_RUNES
    for warning, reason in zip(warnings[1:], reasons, strict=True):
        assert len(warning) <= WARNING_RUNES
        assert warning.endswith("word" + ELLIPSIS)
        assert reason.startswith(warning.removesuffix(ELLIPSIS))
    assert "kubectl describe gpai acme-llm -n ml" in warnings[0]  # where the full text is


def test_a_long_header_keeps_the_pointer_to_the_full_text() -> None:
    long_namespace = "n" * 63
    d = decision(
        ("r",), namespace=long_namespace, message="Deployment x is allowed with a warning " + "y " * 200
    )

    header = warnings_for(d)[0]

    assert len(header) <= WARNING_RUNES
    assert header.endswith(f"(in full: kubectl describe gpai acme-llm -n {long_namespace})")


def test_control_characters_never_reach_a_warning() -> None:
    assert one_line("first\nsecond\tthird\r") == "first second third"
    assert fit(["a\nb", "   ", "\x00c"]) == ["a b", "c"]


def test_the_warning_of_an_always_allowed_request_is_one_line_within_256_runes() -> None:
    many = tuple(f"systemic-risk/obligation-with-a-long-name-{i}" for i in range(13))
    d = decision(tuple("r" for _ in many), unmet=many)

    [warning] = pass_warning(d, "scaling is never blocked")

    assert len(warning) <= WARNING_RUNES
    assert warning.startswith("Deployment ml/chat serves GPAIModel acme-llm, which is not compliant (13")
    assert warning.endswith(ELLIPSIS + "); allowed: scaling is never blocked")


def test_the_warning_names_an_unknown_or_missing_model() -> None:
    unknown = decision(("r",), compliance="UnknownModel", model="ghost")
    unlabelled = decision(("r",), compliance=None, model=None)

    assert "names GPAIModel ghost, which does not exist" in pass_warning(unknown, "x")[0]
    assert "declares no GPAIModel (no gpai.dev/model label)" in pass_warning(unlabelled, "x")[0]
