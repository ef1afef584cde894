"""governance/code-of-practice: per chapter of the Code of Practice, the provider signed it or shows
alternative adequate means (Art. 53(4), 55(2)); a policy may admit only signatories of a chapter.

Which chapters apply is data, as the catalogue is: Transparency unless the model is open-source
exempt, Copyright always, Safety and Security for models with systemic risk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gpai_operator.api.gpaimodel import CHAPTERS, AlternativeMeans, Chapter
from gpai_operator.engine.evidence import Evidence, Finding, FindingStatus, Terms
from gpai_operator.engine.verdicts import SEVERITY, Classification


@dataclass(frozen=True, slots=True)
class ChapterRule:
    title: str  # as messages name the chapter
    field: str  # its field under spec.provider.codeOfPractice
    applies: Callable[[Classification], bool]


CHAPTER_RULES: dict[Chapter, ChapterRule] = {
    "Transparency": ChapterRule("Transparency", "transparency", lambda c: not c.open_source_exempt),
    "Copyright": ChapterRule("Copyright", "copyright", lambda c: True),
    "SafetyAndSecurity": ChapterRule("Safety and Security", "safetyAndSecurity", lambda c: c.systemic_risk),
}


def applicable_chapters(classification: Classification) -> tuple[Chapter, ...]:
    return tuple(c for c in CHAPTERS if CHAPTER_RULES[c].applies(classification))


@dataclass(frozen=True, slots=True)
class _Shortfall:
    status: FindingStatus
    chapter: Chapter
    detail: str


def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """The worst chapter decides; the message names each chapter that falls short, then the others."""
    provider = evidence.model.spec.provider
    declared = provider.code_of_practice
    means: dict[Chapter, AlternativeMeans] = {}
    for entry in provider.alternative_means:
        if entry.document.url:
            means.setdefault(entry.chapter, entry)
    required = set(terms.parameters.require_signatory)
    shortfalls: list[_Shortfall] = []
    fine: list[str] = []
    for chapter in applicable_chapters(terms.classification):
        title = CHAPTER_RULES[chapter].title
        adherence = declared.adherence(chapter) if declared else None
        if adherence is None:
            detail = f"{title} chapter not declared ({_field(chapter)} is not set)"
            shortfalls.append(_Shortfall("Missing", chapter, detail))
        elif adherence == "Signatory":
            fine.append(f"{title} chapter signed")
        elif chapter in required:
            detail = (
                f"{title} chapter not signed, and the policy admits only its signatories "
                f"(parameters.requireSignatory lists {chapter}), alternative means or not"
            )
            shortfalls.append(_Shortfall("Failed", chapter, detail))
        elif chapter in means:
            entry = means[chapter]
            updated = f", updated {entry.updated}" if entry.updated else ""
            fine.append(
                f"{title} chapter not signed, alternative adequate means documented at "
                f"{entry.document.url}{updated}"
            )
        else:
            detail = (
                f"{title} chapter not signed and no alternative adequate means documented "
                "(spec.provider.alternativeMeans has no entry for it)"
            )
            shortfalls.append(_Shortfall("Incomplete", chapter, detail))
    if not shortfalls:
        return Finding("Met", "; ".join(fine))
    return Finding(
        min((s.status for s in shortfalls), key=SEVERITY.index),
        "; ".join([s.detail for s in shortfalls] + fine),
        fix=f"{_fixes(shortfalls)} on GPAIModel {evidence.namespace}/{evidence.name}",
    )


def _field(chapter: Chapter) -> str:
    return f"spec.provider.codeOfPractice.{CHAPTER_RULES[chapter].field}"


def _fixes(shortfalls: list[_Shortfall]) -> str:
    def chapters(status: FindingStatus) -> list[Chapter]:
        return [s.chapter for s in shortfalls if s.status == status]

    fixes = []
    if undeclared := chapters("Missing"):
        fixes.append(f"set {' and '.join(_field(c) for c in undeclared)} to Signatory or NonSignatory")
    if unsupported := chapters("Incomplete"):
        entries = ", ".join(f"{{chapter: {c}, document: {{url}}, updated}}" for c in unsupported)
        fixes.append(f"document alternative adequate means in spec.provider.alternativeMeans ({entries})")
    if refused := chapters("Failed"):
        titles = " and ".join(CHAPTER_RULES[c].title for c in refused)
        fixes.append(
            f"serve a model whose provider signed the {titles} chapter{'s' if len(refused) > 1 else ''}"
        )
    return "; ".join(fixes)
