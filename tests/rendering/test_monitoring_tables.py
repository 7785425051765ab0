"""Every continuous monitoring rule gets its own boundary and operating-characteristics table
(issue 11: a product adds a second rule and keeps the default)."""

from __future__ import annotations

from pathlib import Path

from generator import api

ROOT = Path(__file__).resolve().parents[2]


def test_each_monitoring_rule_has_its_own_tables() -> None:
    report = api.check(ROOT / "examples" / "allo-car-nk-solid-tumour" / "product.yaml", clean=True)
    assert report.resolved is not None and not report.errors
    analysis = api.analyse(report.resolved)
    rules = analysis.stopping_rules
    assert len(rules) == 2  # the default rule and the product's GvHD rule
    markdown = report.documents["protocol"].markdown
    for rule in rules:
        assert f"Table: Toxicity-monitoring boundaries for {rule.monitored_event}" in markdown
        assert (
            "Table: Operating characteristics of the toxicity-monitoring rule for "
            f"{rule.monitored_event}" in markdown
        )
    interim = markdown.split("{#m11-10-9}", 1)[1].split("{#m11-10-10}", 1)[0]
    assert all(rule.monitored_event in interim for rule in rules)
