"""governance/code-of-practice: per chapter, signed or alternative adequate means (Art. 53(4), 55(2)),
and messages that cite the Code's measures only for the chapters the provider signed."""

from __future__ import annotations

import pytest

from .builders import (
    cluster,
    exception,
    frontier,
    model,
    obligation,
    open_weights_model,
    patched,
    policy,
    small_model,
    status,
    verdict,
    without,
)

COP = "governance/code-of-practice"
ALL_SIGNED = {"transparency": "Signatory", "copyright": "Signatory", "safetyAndSecurity": "Signatory"}


def means(chapter: str, url: str | None = None) -> dict:
    return {
        "chapter": chapter,
        "document": {"url": url or f"https://acme.example/compliance/{chapter.lower()}"},
        "updated": "2026-05-01",
    }


def adhering(obj: dict, alternative: list[dict] | None = None, **chapters: str | None) -> dict:
    """`obj` with the provider's declaration: chapters given as transparency=..., None to leave one out."""
    declared = {k: v for k, v in {**ALL_SIGNED, **chapters}.items() if v is not None}
    changed = patched(obj, spec__provider__codeOfPractice=declared)
    if alternative is not None:
        changed = patched(changed, spec__provider__alternativeMeans=alternative)
    return changed


def judged(obj: dict, *objs: dict, name: str = "acme") -> tuple[str, str]:
    found = obligation(cluster(*([frontier()] if name == "acme" else []), obj, *objs), COP, name=name)
    return found.status, found.message


# ---- the per-chapter rule ------------------------------------------------------------------------
def test_a_signatory_of_every_chapter_meets_it():
    state, message = judged(model())
    assert state == "Met"
    assert "Transparency chapter signed; Copyright chapter signed; Safety and Security chapter signed" in (
        message
    )
    assert "(Art. 53(4), 55(2)) is Met" in message


@pytest.mark.parametrize(
    ("chapter", "field", "title"),
    [
        ("Transparency", "transparency", "Transparency"),
        ("Copyright", "copyright", "Copyright"),
        ("SafetyAndSecurity", "safetyAndSecurity", "Safety and Security"),
    ],
)
def test_a_non_signatory_needs_alternative_adequate_means_for_that_chapter(chapter, field, title):
    without_means = adhering(model(), None, **{field: "NonSignatory"})
    state, message = judged(without_means)
    assert state == "Incomplete"
    assert f"{title} chapter not signed and no alternative adequate means documented" in message
    assert (
        f"document alternative adequate means in spec.provider.alternativeMeans "
        f"({{chapter: {chapter}, document: {{url}}, updated}})" in message
    )

    with_means = adhering(
        model(), [means(chapter, "https://acme.example/own-measures.pdf")], **{field: "NonSignatory"}
    )
    state, message = judged(with_means)
    assert state == "Met"
    assert (
        f"{title} chapter not signed, alternative adequate means documented at "
        "https://acme.example/own-measures.pdf, updated 2026-05-01" in message
    )


def test_alternative_means_count_only_for_their_own_chapter():
    other_chapter = adhering(model(), [means("Copyright")], transparency="NonSignatory")
    assert judged(other_chapter)[0] == "Incomplete"


def test_the_date_of_alternative_means_is_informative():
    undated = adhering(model(), [without(means("Transparency"), "updated")], transparency="NonSignatory")
    state, message = judged(undated)
    assert state == "Met"
    assert "documented at https://acme.example/compliance/transparency" in message


def test_an_undeclared_chapter_is_missing():
    state, message = judged(adhering(model(), copyright=None))
    assert state == "Missing"
    assert "Copyright chapter not declared (spec.provider.codeOfPractice.copyright is not set)" in message
    assert "set spec.provider.codeOfPractice.copyright to Signatory or NonSignatory" in message


def test_no_declaration_at_all_is_missing_and_names_every_chapter_that_applies():
    state, message = judged(without(model(), "spec.provider.codeOfPractice"))
    assert state == "Missing"
    for chapter in ("Transparency", "Copyright", "Safety and Security"):
        assert f"{chapter} chapter not declared" in message


def test_the_worst_chapter_decides_and_each_shortfall_is_named():
    mixed = adhering(model(), transparency="NonSignatory", safetyAndSecurity=None)
    state, message = judged(mixed)
    assert state == "Missing"
    assert "Safety and Security chapter not declared" in message
    assert "Transparency chapter not signed and no alternative adequate means documented" in message
    assert "Copyright chapter signed" in message


# ---- which chapters apply ------------------------------------------------------------------------
def test_safety_and_security_applies_only_with_systemic_risk():
    small = adhering(small_model(), safetyAndSecurity=None)
    assert judged(small, name="mini")[0] == "Met"
    small_non_signatory = adhering(small_model(), safetyAndSecurity="NonSignatory")
    state, message = judged(small_non_signatory, name="mini")
    assert state == "Met"
    assert "Safety and Security" not in message


def test_open_source_exempt_models_need_only_the_copyright_chapter():
    only_copyright = patched(open_weights_model(), spec__provider__codeOfPractice={"copyright": "Signatory"})
    state, message = judged(only_copyright, name="openmodel")
    assert state == "Met"
    assert message.endswith("is Met: Copyright chapter signed.")
    not_copyright = patched(
        open_weights_model(), spec__provider__codeOfPractice={"transparency": "Signatory"}
    )
    assert judged(not_copyright, name="openmodel")[0] == "Missing"
    alternative = patched(
        open_weights_model(),
        spec__provider__codeOfPractice={"copyright": "NonSignatory"},
        spec__provider__alternativeMeans=[means("Copyright")],
    )
    assert judged(alternative, name="openmodel")[0] == "Met"


def test_a_model_above_the_threshold_loses_the_exemption_and_needs_every_chapter():
    big_open = patched(
        open_weights_model(),
        spec__trainingCompute={"flops": 2e25},
        spec__provider__codeOfPractice={"copyright": "Signatory"},
    )
    state, message = judged(big_open, name="openmodel")
    assert state == "Missing"
    assert "Transparency chapter not declared" in message
    assert "Safety and Security chapter not declared" in message


# ---- requireSignatory ----------------------------------------------------------------------------
def signatories_only(*chapters: str) -> dict:
    return policy("signatories", parameters={"requireSignatory": list(chapters)})


def test_require_signatory_fails_a_non_signatory_even_with_alternative_means():
    xai_like = adhering(
        model(),
        [means("Transparency"), means("Copyright")],
        transparency="NonSignatory",
        copyright="NonSignatory",
    )
    assert judged(xai_like)[0] == "Met"  # the law accepts alternative adequate means
    state, message = judged(xai_like, signatories_only("Transparency"))
    assert state == "Failed"
    assert (
        "Transparency chapter not signed, and the policy admits only its signatories "
        "(parameters.requireSignatory lists Transparency), alternative means or not" in message
    )
    assert "Copyright chapter not signed, alternative adequate means documented" in message
    assert "serve a model whose provider signed the Transparency chapter" in message


def test_require_signatory_fails_a_non_signatory_without_alternative_means_too():
    plain = adhering(model(), safetyAndSecurity="NonSignatory")
    assert judged(plain)[0] == "Incomplete"
    assert judged(plain, signatories_only("SafetyAndSecurity"))[0] == "Failed"


def test_require_signatory_is_met_by_signatories():
    assert judged(model(), signatories_only("Transparency", "Copyright", "SafetyAndSecurity"))[0] == "Met"


def test_under_require_signatory_an_undeclared_chapter_stays_missing():
    undeclared = adhering(model(), safetyAndSecurity=None)
    assert judged(undeclared, signatories_only("SafetyAndSecurity"))[0] == "Missing"


def test_require_signatory_of_a_chapter_that_does_not_apply_changes_nothing():
    small = adhering(small_model(), safetyAndSecurity="NonSignatory")
    assert judged(small, signatories_only("SafetyAndSecurity"), name="mini")[0] == "Met"
    exempt = patched(open_weights_model(), spec__provider__codeOfPractice={"copyright": "Signatory"})
    assert judged(exempt, signatories_only("Transparency"), name="openmodel")[0] == "Met"


def test_require_signatory_belongs_to_its_policy():
    plain = adhering(model(), [means("Transparency")], transparency="NonSignatory")
    state = cluster(frontier(), plain, signatories_only("Transparency"), policy("law"))
    per_policy = {p.policy: {o.id: o.status for o in p.obligations}[COP] for p in verdict(state).policies}
    assert per_policy == {"law": "Met", "signatories": "Failed"}
    assert status(state, COP) == "Failed"  # the worst across policies


# ---- the status rules apply as to every obligation ------------------------------------------------
def test_a_legacy_model_is_in_grace_for_its_declaration():
    legacy = patched(without(model(), "spec.provider.codeOfPractice"), spec__euMarketDate="2024-05-01")
    found = obligation(cluster(frontier(), legacy), COP)
    assert found.status == "Grace"
    assert "until then it may be Missing" in found.message


def test_an_exception_waives_it():
    waiving = policy("eu", exceptions=[exception([COP])])
    plain = adhering(model(), transparency="NonSignatory")
    assert status(cluster(frontier(), plain, waiving), COP) == "Waived"


# ---- what messages cite -----------------------------------------------------------------------------
def cited(state, obligation_id: str, name: str = "acme") -> str:
    return obligation(state, obligation_id, name=name).message


def test_messages_cite_the_codes_measures_for_the_chapters_the_provider_signed():
    state = cluster(frontier())
    assert "(Art. 53(1)(a), Annex XI; CoP Transparency M1.1, M1.3) is Met" in cited(
        state, "transparency/technical-documentation"
    )
    assert "(Art. 53(1)(c); CoP Copyright M1.1-M1.5) is Met" in cited(state, "copyright/policy")
    assert "(Art. 55(1)(a); CoP S&S Commitments 2-3) is Met" in cited(state, "systemic-risk/evaluation")


def test_for_chapters_not_signed_messages_cite_the_article_and_alternative_adequate_means():
    only_safety = adhering(
        model(),
        [means("Transparency"), means("Copyright")],
        transparency="NonSignatory",
        copyright="NonSignatory",
    )
    state = cluster(frontier(), only_safety)
    documentation = cited(state, "transparency/technical-documentation")
    assert "(Art. 53(1)(a), Annex XI; alternative adequate means (Art. 53(4))) is Met" in documentation
    assert "CoP Transparency" not in documentation
    assert "(Art. 53(1)(b), Annex XII; alternative adequate means (Art. 53(4)))" in cited(
        state, "transparency/downstream-information"
    )
    assert "(Art. 53(1)(c); alternative adequate means (Art. 53(4)))" in cited(state, "copyright/policy")
    assert "(Art. 55(1)(a); CoP S&S Commitments 2-3)" in cited(state, "systemic-risk/evaluation")


def test_a_provider_that_signed_nothing_is_cited_no_code_measure_anywhere():
    meta_like = adhering(
        model(), transparency="NonSignatory", copyright="NonSignatory", safetyAndSecurity="NonSignatory"
    )
    result = verdict(cluster(frontier(), meta_like))
    assert not any("CoP" in o.message for o in result.obligations)
    report = {o.id: o for o in result.obligations}["systemic-risk/model-report"]
    assert "(Art. 55(1)(b); alternative adequate means (Art. 55(2)))" in report.message
    assert report.basis == "Art. 55(1)(b); alternative adequate means (Art. 55(2))"


def test_an_undeclared_chapter_is_cited_like_one_not_signed():
    undeclared = without(model(), "spec.provider.codeOfPractice")
    message = cited(cluster(frontier(), undeclared), "systemic-risk/framework")
    assert "(Art. 55(1)(b); alternative adequate means (Art. 55(2)))" in message


# ---- the signed chapters, short ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chapters", "short"),
    [
        (ALL_SIGNED, "T,C,S"),
        ({"safetyAndSecurity": "Signatory", "transparency": "NonSignatory"}, "S"),
        ({"transparency": "Signatory", "copyright": "Signatory"}, "T,C"),
        (
            {
                "transparency": "NonSignatory",
                "copyright": "NonSignatory",
                "safetyAndSecurity": "NonSignatory",
            },
            "-",
        ),
        ({}, "-"),
    ],
)
def test_the_signed_chapters_in_short(chapters, short):
    state = cluster(patched(model(), spec__provider__codeOfPractice=chapters))
    assert verdict(state).classification.signed_short == short
