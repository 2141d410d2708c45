"""The model document agrees with the code: the plan of §3 and the metric tables of §7.9.

The tables between `<!-- metrics: KIND -->` and `<!-- end metrics -->` are generated
from the metric declarations; after changing a declaration, rewrite them with
`python tests/test_docs.py --write`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from simulation.model import METRICS, PLAN
from simulation.viz.tables import metrics_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
BLOCK = re.compile(r"(<!-- metrics: (\w+) -->\n)(.*?)(<!-- end metrics -->)", re.S)


def generated(text: str) -> str:
    """The document with each metrics block rewritten from the declarations."""

    def table(match: re.Match) -> str:
        kind = match.group(2)
        metrics = tuple(m for m in METRICS if m.kind == kind)
        return match.group(1) + metrics_markdown(metrics) + match.group(4)

    return BLOCK.sub(table, text)


def test_the_metric_tables_are_the_declarations():
    text = DOC.read_text(encoding="utf-8")
    assert {m.group(2) for m in BLOCK.finditer(text)} == {"daily", "final"}
    assert generated(text) == text, "run `python tests/test_docs.py --write`"


def test_the_process_overview_lists_the_plan_in_order():
    text = DOC.read_text(encoding="utf-8")
    overview = text[text.index("## 3. Process overview") : text.index("## 4. Design concepts")]
    listed = re.findall(r"^\d+\. \*\*([a-z ]+)\*\* \(`(\w+)\.py`", overview, re.M)
    assert [name for name, _ in listed] == [cls.name for cls in PLAN]
    for name, module in listed:
        cls = next(c for c in PLAN if c.name == name)
        assert cls.__module__.endswith(f".{module}"), (name, module)


def test_every_compliance_indicator_has_its_row_in_section_7_10():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### 7.10") : text.index("### 7.11")]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    declared = {m.name for m in METRICS if m.kind == "cumulative"}
    assert declared <= documented


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    DOC.write_text(generated(DOC.read_text(encoding="utf-8")), encoding="utf-8")
