"""copyright/training-content-summary beyond a current public URL (the Commission's template of 24 July
2025): the versions it covers, where the content came from, TDM opt-outs, and crawled data backed by
the copyright policy."""

from __future__ import annotations

from .builders import cluster, copyright_policy, excluding, frontier, model, obligation, on, patched

SUMMARY = "copyright/training-content-summary"
PUBLIC = {"url": "https://acme.example/summary", "updated": "2026-09-01"}


def summary(*others: dict, now=None, **fields: object):
    acme = patched(model(), spec__trainingContentSummary={**PUBLIC, **fields})
    return obligation(cluster(frontier(), acme, *others), SUMMARY, **({"now": now} if now else {}))


def test_a_summary_that_covers_the_models_version_is_met():
    found = summary(
        modelVersions=["3.0", "3.1"],
        dataSources={"publicDatasets": True, "crawled": True, "synthetic": False},
        tdmOptOutRespected=True,
    )
    assert found.status == "Met"
    assert found.expires.isoformat() == "2027-03-03"


def test_a_summary_that_lists_other_versions_only_is_incomplete():
    found = summary(modelVersions=["3.0"])
    assert found.status == "Incomplete"
    assert "spec.trainingContentSummary.modelVersions lists 3.0, not the model's version 3.1" in found.message
    assert "To fix: publish a summary that covers version 3.1" in found.message


def test_opt_outs_not_respected_is_failed():
    found = summary(tdmOptOutRespected=False)
    assert found.status == "Failed"
    assert "tdmOptOutRespected is false: text-and-data-mining opt-outs were not respected" in found.message


def test_crawled_data_needs_a_copyright_policy_and_says_whether_opt_outs_were_respected():
    crawled = {"dataSources": {"crawled": True}}
    no_policy = obligation(
        cluster(
            excluding(frontier(), "CopyrightPolicy"),
            patched(model(), spec__trainingContentSummary={**PUBLIC, **crawled, "tdmOptOutRespected": True}),
        ),
        SUMMARY,
    )
    assert no_policy.status == "Incomplete"
    assert (
        "spec.trainingContentSummary.dataSources.crawled is true, but no copyright policy backs the crawling "
        "(CopyrightPolicy acme-copyright does not exist)" in no_policy.message
    )
    unsaid = summary(**crawled)
    assert unsaid.status == "Incomplete"
    assert "tdmOptOutRespected is not set, which a summary of crawled data must say" in unsaid.message


def test_crawled_data_with_a_policy_that_ignores_robots_txt_is_failed():
    ignores = patched(copyright_policy(), spec__crawling__respectsRobotsTxt=False)
    found = summary(ignores, dataSources={"crawled": True}, tdmOptOutRespected=True)
    assert found.status == "Failed"
    assert "CopyrightPolicy ml/acme-copyright records crawling.respectsRobotsTxt: false" in found.message


def test_without_crawled_data_the_policy_is_not_cross_checked_here():
    ignores = patched(copyright_policy(), spec__crawling__respectsRobotsTxt=False)
    assert summary(ignores, dataSources={"crawled": False, "userData": True}).status == "Met"


def test_an_expired_summary_with_a_gap_shows_both():
    found = summary(modelVersions=["3.0"], now=on("2027-03-04"))
    assert found.status == "Expired"
    assert "older than 183 days" in found.message
    assert "lists 3.0, not the model's version 3.1" in found.message
