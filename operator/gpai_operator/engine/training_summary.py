"""copyright/training-content-summary: the public summary of the training content (Art. 53(1)(d)),
as the Commission's template of 24 July 2025 has it.

Beyond a current public URL: the summary covers the model's version (when it lists the versions it
covers), text-and-data-mining opt-outs were not ignored (`tdmOptOutRespected: false` is Failed),
and a summary that declares crawled data is backed by the model's copyright policy: present, and
its crawler respects robots.txt (the Code's Copyright Measure 1.3, which copyright/policy checks
too), and says whether opt-outs were respected.
"""

from __future__ import annotations

from gpai_operator.engine import checks
from gpai_operator.engine.evidence import Evidence, Finding, FindingStatus, Terms
from gpai_operator.engine.verdicts import SEVERITY

WHERE = "spec.trainingContentSummary"
_current_and_public = checks.model_field(
    WHERE.removeprefix("spec."), dated="updated", max_age="training_summary_max_age_days"
)


def _crawling_backed(evidence: Evidence) -> tuple[FindingStatus, str, str] | None:
    """When the summary declares crawled data: the copyright policy that governs the crawler."""
    model = f"GPAIModel {evidence.namespace}/{evidence.name}"
    declares = f"{WHERE}.dataSources.crawled is true"
    ref = evidence.model.spec.copyright_policy_ref
    policy = evidence.copyright_policy
    if ref is None or policy is None:
        missing = (
            "spec.copyrightPolicyRef names none"
            if ref is None
            else f"CopyrightPolicy {ref.name} does not exist"
        )
        return (
            "Incomplete",
            f"{declares}, but no copyright policy backs the crawling ({missing})",
            f"name the provider's CopyrightPolicy in spec.copyrightPolicyRef of {model}",
        )
    where = f"CopyrightPolicy {policy.namespace}/{policy.name}"
    robots = policy.spec.crawling.respects_robots_txt if policy.spec.crawling else None
    if robots is False:
        return (
            "Failed",
            f"{declares}, and {where} records crawling.respectsRobotsTxt: false",
            f"crawl only as robots.txt allows and record it in {where}",
        )
    if robots is None:
        return (
            "Incomplete",
            f"{declares}, but {where} does not say whether its crawler respects robots.txt",
            f"set crawling.respectsRobotsTxt in {where}",
        )
    return None


def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    finding = _current_and_public(evidence, terms, fields)
    summary = evidence.model.spec.training_content_summary
    if summary is None:
        return finding
    problems: list[tuple[FindingStatus, str, str]] = []
    if summary.model_versions and evidence.version not in summary.model_versions:
        problems.append(
            (
                "Incomplete",
                f"{WHERE}.modelVersions lists {', '.join(summary.model_versions)}, not the model's version "
                f"{evidence.version}",
                f"publish a summary that covers version {evidence.version} and list it in "
                f"{WHERE}.modelVersions",
            )
        )
    if summary.tdm_opt_out_respected is False:
        problems.append(
            (
                "Failed",
                f"{WHERE}.tdmOptOutRespected is false: text-and-data-mining opt-outs were not respected",
                "leave out content whose rightholders reserved text and data mining (DSM Directive Art. "
                "4(3)) and publish the corrected summary",
            )
        )
    if summary.data_sources is not None and summary.data_sources.crawled:
        backed = _crawling_backed(evidence)
        if backed is not None:
            problems.append(backed)
        if summary.tdm_opt_out_respected is None:
            problems.append(
                (
                    "Incomplete",
                    f"{WHERE}.tdmOptOutRespected is not set, which a summary of crawled data must say",
                    f"set {WHERE}.tdmOptOutRespected",
                )
            )
    if not problems:
        return finding
    statuses: list[FindingStatus] = [s for s, _, _ in problems]
    details = [d for _, d, _ in problems]
    fixes = [f for _, _, f in problems]
    if finding.status != "Met":
        statuses.append(finding.status)
        details.insert(0, finding.detail)
        if finding.fix:
            fixes.insert(0, finding.fix)
    return Finding(
        min(statuses, key=SEVERITY.index), "; ".join(details), fix="; ".join(fixes), changes=finding.changes
    )
