"""CopyrightPolicy: one per provider, shared by its models (Art. 53(1)(c))."""

from __future__ import annotations

from gpai_operator.api.base import ApiModel, Bool, Date, DocumentRef, Short, ShortList, Text


class Crawling(ApiModel):
    respects_robots_txt: Bool | None = None
    opt_out_protocols: ShortList = []
    respects_paywalls: Bool | None = None
    excludes_infringing_sites: Bool | None = None
    crawler_disclosure: Text | None = None


class OutputSafeguards(ApiModel):
    description: Text | None = None
    terms_prohibit_infringement: Bool | None = None


class Complaints(ApiModel):
    contact: Short | None = None
    procedure: DocumentRef | None = None


class CopyrightPolicySpec(ApiModel):
    provider: Short | None = None
    document: DocumentRef
    crawling: Crawling | None = None
    output_safeguards: OutputSafeguards | None = None
    complaints: Complaints | None = None
    review_by: Date | None = None
