"""The documentation stands alone: every link in README.md, docs/ and k8s/ resolves inside the
repository, to a file that exists and, for `#anchor`, to a heading that exists, and none points
outside it. A section moved between files otherwise leaves links that 404 on the first click."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "k8s").rglob("*.md")]
)
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.DOTALL)


def anchors(document: Path) -> set[str]:
    """The anchors a Markdown renderer gives the document's headings."""
    found = set()
    for line in document.read_text().splitlines():
        if heading := re.match(r"^#+ (.*)", line):
            words = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(words.replace(" ", "-"))
    return found


def links(document: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", document.read_text()))


def resolves(document: Path, link: str) -> bool:
    path, _, anchor = link.partition("#")
    target = (document.parent / path).resolve() if path else document
    if "://" in link or not target.is_relative_to(ROOT) or not target.exists():
        return False
    return not anchor or target.suffix != ".md" or anchor in anchors(target)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_in_the_document_resolves_inside_the_repository(document: Path) -> None:
    broken = [link for link in links(document) if not resolves(document, link)]
    assert broken == []


def test_no_document_cites_a_text_that_is_not_in_the_repository() -> None:
    citing = [str(doc.relative_to(ROOT)) for doc in DOCUMENTS if "§" in doc.read_text()]
    assert citing == []
