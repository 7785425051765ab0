"""Every internal link and asset reference of the built site resolves (file and #anchor)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            if (name == "href" and tag in ("a", "link")) or (
                name == "src" and tag in ("img", "script")
            ):
                self.refs.append(value)


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text("utf-8"))
    return parser


def _target(page: Path, ref: str, root: Path) -> Path:
    path = unquote(urlsplit(ref).path)
    target = (root / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
    return target.resolve()


def test_no_broken_internal_links(built_site: Path) -> None:
    root = built_site.resolve()
    pages = sorted(root.rglob("*.html"))
    assert len(pages) > 20
    parsed = {p: _parse(p) for p in pages}
    broken: list[str] = []
    checked = 0
    for page, refs in parsed.items():
        for ref in refs.refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:")):
                continue
            checked += 1
            target = page if not parts.path else _target(page, ref, root)
            rel = page.relative_to(root)
            if target.is_dir():
                broken.append(f"{rel}: {ref} → a folder (a listing when read from disk)")
                continue
            if not target.exists():
                broken.append(f"{rel}: {ref} → missing {target}")
                continue
            if parts.fragment and target.suffix == ".html" and page != root / "404.html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{rel}: {ref} → no #{parts.fragment}")
    assert checked > 500
    assert broken == [], "\n".join(broken[:50])


def test_no_external_assets(built_site: Path) -> None:
    """Offline: no page loads a script, stylesheet or font from another server."""
    offenders = []
    for page in sorted(built_site.rglob("*.html")):
        text = page.read_text("utf-8")
        for needle in ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com", "cdnjs"):
            if needle in text:
                offenders.append(f"{page.relative_to(built_site)}: {needle}")
    assert offenders == []
