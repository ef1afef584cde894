"""The words of an admission answer: the deny message, the warnings, the audit annotations.

The engine words each unmet obligation (its id, article, finding and what to create); this module
only fits that text to what kube-apiserver and kubectl do with it:

- the deny message is the engine's message as is: a header naming the workload, the policy and
  the model, then one line per unmet obligation. kube-apiserver prefixes it with
  `admission webhook "<name>" denied the request: ` and kubectl prints it whole;
- warnings are the same text split per obligation: the header, then one self-contained sentence
  per obligation. kube-apiserver (k8s.io/apiserver endpoints/filters/warning.go) drops any warning
  holding a control character (so never a newline) and dedupes them; once the warnings of one
  request exceed 4096 runes in all it cuts *every* warning to 256 runes, mid-word. So when ours
  would exceed that budget, each is shortened here to 256 runes at a word boundary, ending in an
  ellipsis, and the header says where the full text is (`kubectl describe gpai`).
"""

from __future__ import annotations

from collections.abc import Sequence

from gpai_operator.engine import MODEL_LABEL, WorkloadDecision

WARNINGS_TOTAL_RUNES = 4096  # kube-apiserver's budget for all warnings of one request
WARNING_RUNES = 256  # what it cuts each warning to once the budget is exceeded
ELLIPSIS = "..."  # ASCII: clients that read headers as Latin-1 (Python's) would garble an ellipsis


def deny_message(decision: WorkloadDecision) -> str:
    return decision.message


def warnings_for(decision: WorkloadDecision) -> list[str]:
    """The header line (saying where the full text is), then one warning per unmet obligation."""
    header = one_line(decision.message.split("\n", 1)[0]).rstrip(":")
    if decision.model is not None and decision.compliance == "NonCompliant":
        pointer = f" (in full: kubectl describe gpai {decision.model} -n {decision.namespace})"
        header = _shorten(header, WARNING_RUNES - len(pointer)) + pointer
    else:
        header = _shorten(header, WARNING_RUNES)
    return [header, *fit(decision.reasons, WARNINGS_TOTAL_RUNES - len(header))]


def pass_warning(decision: WorkloadDecision, reason: str) -> list[str]:
    """One warning for a request allowed whatever the model's state (scaling, DELETE...)."""
    what = f"{decision.kind} {decision.namespace}/{decision.name}"
    if decision.model is None:
        state = f"declares no GPAIModel (no {MODEL_LABEL} label)"
    elif decision.compliance == "UnknownModel":
        state = f"names GPAIModel {decision.model}, which does not exist"
    else:
        state = f"serves GPAIModel {decision.model}, which is not compliant"
    count = len(decision.unmet)
    unmet = f"{count} obligation{'s' if count != 1 else ''} unmet: {', '.join(decision.unmet)}"
    tail = f"; allowed: {reason}"
    head = f"{what} {state} ({unmet}"
    room = WARNING_RUNES - len(tail) - 1
    return [(head if len(head) <= room else _shorten(head, room)) + ")" + tail]


def audit_annotations(decision: WorkloadDecision) -> dict[str, str]:
    """Recorded by kube-apiserver in the request's audit event as `<webhook name>/<key>`."""
    annotations = {"unmet": ",".join(decision.unmet)}
    if decision.model is not None:
        annotations["model"] = f"{decision.namespace}/{decision.model}"
    return annotations


def fit(warnings: Sequence[str], budget: int = WARNINGS_TOTAL_RUNES) -> list[str]:
    """Single-line warnings that kube-apiserver will pass on whole: all of them within `budget`
    runes, else each within 256."""
    lines = [one_line(w) for w in warnings if w.strip()]
    if sum(len(w) for w in lines) <= budget:
        return lines
    return [_shorten(w, WARNING_RUNES) for w in lines]


def one_line(text: str) -> str:
    """Control characters (newlines, tabs...) make kube-apiserver drop a warning: turn them into spaces."""
    return "".join(c if c.isprintable() else " " for c in text).strip()


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS
