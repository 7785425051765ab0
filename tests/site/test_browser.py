"""The built sites in headless Chromium (Debian's, never a Playwright download).

- the repository's site over HTTP: home → framework → element page, search, a protocol draft,
  open placeholders, the CMC matrix and a Module 3 draft; no console errors, no requests
  leaving the local server;
- the same site opened from disk (file://): nav links lead to pages, search finds and opens;
- what a reader sees: no `\\<`, no empty H1, every insertion point shows its `<…>`;
- a product whose texts carry script, iframe, onerror and javascript: payloads: nothing runs,
  nothing is injected, the text shows literally;
- axe-core on every page type: no serious or critical violation;
- screenshots (desktop, mobile, dark, print, file://) in test-artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXAMPLE = "examples/cd19-cart-lbcl"
PAGE_TYPES = {
    "home": "index.html",
    "element": "framework/early-phase-cell-therapy/dose-escalation.html",
    "register": f"{EXAMPLE}/tailoring-register.html",
    "protocol": f"{EXAMPLE}/protocol.html",
    "cmc-matrix": "cmc/cmc-staged/index.html",
    "cmc-draft": f"{EXAMPLE}/module3.html",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"
    ),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def base_url(built_site: Path) -> Iterator[str]:
    with _serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def hostile_url(hostile_site: Path) -> Iterator[str]:
    with _serve(hostile_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _watch(pg: Any, allowed: tuple[str, ...]) -> list[str]:
    """Record console errors, page errors, dialogs, failed responses and off-site requests."""
    problems: list[str] = []
    pg.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def dialog(d: Any) -> None:
        problems.append(f"dialog {d.type}: {d.message}")
        d.dismiss()

    pg.on("dialog", dialog)
    pg.on(
        "request",
        lambda req: (
            None
            if req.url.startswith((*allowed, "data:", "blob:", "about:"))
            else problems.append(f"off-site request: {req.url}")
        ),
    )
    pg.on(
        "response",
        lambda resp: (
            problems.append(f"HTTP {resp.status}: {resp.url}") if resp.status >= 400 else None
        ),
    )
    return problems


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page on the repository's site; fails the test on any recorded problem."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    problems = _watch(pg, (base_url,))
    yield pg
    context.close()
    assert problems == [], "\n".join(problems)


def _shot(pg: Any, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


# --------------------------------------------------------------------------- reading the site


def test_home_page(page: Any, base_url: str) -> None:
    page.goto(base_url)
    assert "Early-phase cell-therapy protocol framework" in page.locator("article h1").inner_text()
    assert page.locator("nav.md-nav--primary").get_by_text("Dose-Escalation Strategy").count() >= 1


def test_element_page_from_the_framework_overview(page: Any, base_url: str) -> None:
    page.goto(base_url)
    page.locator("article").get_by_role("link", name="The framework").click()
    page.wait_for_url("**/framework/early-phase-cell-therapy/index.html")
    page.locator("article").get_by_role("link", name="Dose-Escalation Strategy").first.click()
    page.wait_for_url("**/framework/early-phase-cell-therapy/dose-escalation.html")
    assert page.locator("article h1").inner_text().startswith("Dose-Escalation Strategy")
    for anchor in ("starting-point", "parameters", "tailoring-triggers", "rationale", "sources"):
        assert page.locator(f"#{anchor}").count() == 1, anchor
    assert page.locator("article .verify").first.is_visible()
    assert page.locator("article table").count() >= 3


def test_search_boin_and_follow_a_result(page: Any, base_url: str) -> None:
    page.goto(base_url)
    _search(page, "BOIN")
    results = page.locator(".md-search-result__item a")
    href = results.first.get_attribute("href")
    results.first.click()
    page.wait_for_load_state("load")
    assert page.url != base_url, href
    assert "BOIN" in page.locator("article").inner_text()


def _search(pg: Any, words: str) -> None:
    pg.locator("label.md-search__icon, .md-search__form").first.click()
    pg.wait_for_function(
        "() => !document.querySelector('.md-search-result__meta')"
        ".textContent.includes('Initializing')",
        timeout=15_000,
    )
    pg.locator("input.md-search__input").press_sequentially(words, delay=30)
    pg.locator(".md-search-result__item a").first.wait_for(state="visible", timeout=15_000)


def test_example_protocol_draft(page: Any, base_url: str) -> None:
    page.goto(base_url)
    page.locator("article").get_by_role("link", name="Worked examples").click()
    page.wait_for_url("**/examples/index.html")
    page.locator("article").get_by_role("link", name="Protocol draft").first.click()
    page.wait_for_url("**/examples/*/protocol.html")
    article = page.locator("article")
    assert article.locator(".title-page").is_visible()
    assert article.locator("span.insertion").count() >= 1
    assert article.locator("#m11-5-2").count() == 1
    text = article.inner_text()
    assert ":::" not in text and "{.insertion}" not in text
    # the table of contents lists the draft's sections, section 12.4 among them
    assert page.locator(".md-sidebar--secondary a[href='#m11-12-4']").count() == 1


def test_register_in_the_protocol_is_a_summary_and_blocks(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}{EXAMPLE}/protocol.html#m11-12-4")
    section = page.locator("#m11-12-4 ~ .departure").first
    assert section.is_visible()
    assert "Justification" in section.inner_text()
    # every column of every table in §12.4 fits the 1366 px window
    box = section.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366
    seven = page.locator("article table:has(th:text('Justification'))")
    assert seven.count() == 0, "the seven-column register table is still on the page"


def test_open_placeholders_link_to_their_insertion_points(page: Any, base_url: str) -> None:
    page.goto(base_url + "placeholders.html")
    first = page.locator("article table a").first
    first.click()
    page.wait_for_load_state("load")
    assert "#ins-" in page.url
    anchor = page.url.split("#")[1]
    target = page.locator(f"#{anchor}")
    assert target.is_visible()
    assert target.inner_text().startswith("<") and target.inner_text().endswith(">")


def test_word_download_is_linked_from_each_draft(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}{EXAMPLE}/index.html")
    links = page.locator("article a.download")
    hrefs = sorted(links.nth(i).get_attribute("href") for i in range(links.count()))
    assert hrefs == sorted(
        ["protocol.docx", "module3.docx", "cmc-readiness.docx", "specification-lifecycle.docx"]
    )
    with page.expect_download() as info:
        links.first.click()
    assert info.value.suggested_filename.endswith(".docx")


def test_cmc_matrix_and_module3_draft(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}{PAGE_TYPES['cmc-matrix']}")
    matrix = page.locator("article table").first
    assert matrix.locator("tbody tr").count() >= 5
    assert "limit" in matrix.inner_text()
    page.goto(f"{base_url}{PAGE_TYPES['cmc-draft']}")
    assert page.locator("[id^='m3-3-2-p']").count() >= 5
    figure = page.locator("article img[src$='.svg']").first
    figure.scroll_into_view_if_needed()
    assert figure.evaluate("img => img.complete && img.naturalWidth > 0")


def test_wide_table_header_stays_in_view(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}{PAGE_TYPES['cmc-matrix']}")
    frame = page.locator(".md-typeset__scrollwrap").first
    header = frame.locator("thead th").first
    before = header.bounding_box()
    frame.evaluate("el => { el.scrollTop = 400 }")
    after = header.bounding_box()
    assert before is not None and after is not None
    assert abs(after["y"] - before["y"]) < 2, "the header row scrolled away with the rows"


# --------------------------------------------------------------------------- what a reader sees

_VISIBLE_PROBLEMS = """() => {
  const article = document.querySelector("article");
  const text = article.innerText;
  const h1 = article.querySelector("h1");
  const spans = [...article.querySelectorAll("span.insertion")];
  return {
    backslash: (text.match(/\\\\</g) || []).length,
    syntax: (text.match(/\\{: |:::/g) || []).length,
    h1: h1 ? h1.innerText.replace("¶", "").trim() : "",
    emptyInsertions: spans.filter(s => !/^<.*>$/s.test(s.innerText.trim())).length,
    unknownTags: [...article.querySelectorAll("*")]
      .map(e => e.tagName.toLowerCase())
      .filter(t => t.includes("short") || t.includes("title-") || t === "trial"),
  };
}"""


def test_no_visible_escapes_empty_titles_or_lost_placeholders(
    browser: Any, built_site: Path, base_url: str
) -> None:
    context = browser.new_context()
    pg = context.new_page()
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html"))
    found: list[str] = []
    for rel in pages:
        if rel == "404.html":
            continue
        pg.goto(base_url + rel)
        seen = pg.evaluate(_VISIBLE_PROBLEMS)
        if seen["backslash"]:
            found.append(f"{rel}: {seen['backslash']} visible \\<")
        if seen["syntax"]:
            found.append(f"{rel}: {seen['syntax']} visible Markdown attribute syntax")
        if not seen["h1"]:
            found.append(f"{rel}: empty H1")
        if seen["emptyInsertions"]:
            found.append(f"{rel}: {seen['emptyInsertions']} insertion point(s) without <…>")
        if seen["unknownTags"]:
            found.append(f"{rel}: placeholder read as a tag: {seen['unknownTags']}")
    context.close()
    assert len(pages) > 40
    assert found == [], "\n".join(found)


# --------------------------------------------------------------------------- file://


def test_site_works_from_disk(browser: Any, built_site: Path) -> None:
    root = built_site.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    problems = _watch(pg, (root,))
    pg.goto(f"{root}/index.html")
    nav = pg.locator("nav.md-nav--primary")
    for name in ("Dose-Escalation Strategy", "Open placeholders", "How to read this site"):
        nav.get_by_role("link", name=name).first.click()
        pg.wait_for_load_state("load")
        assert pg.url.endswith(".html"), f"{name} opened {pg.url}, a folder listing"
        assert pg.locator("article h1").first.is_visible(), pg.url
    _search(pg, "ICANS")
    results = pg.locator(".md-search-result__item a")
    assert results.count() >= 1
    _shot(pg, "file-search-icans")
    results.first.click()
    pg.wait_for_load_state("load")
    assert pg.url.startswith(root) and ".html" in pg.url
    assert "ICANS" in pg.locator("article").inner_text()
    context.close()
    assert problems == [], "\n".join(problems)


# --------------------------------------------------------------------------- hostile product

_INJECTED = """() => {
  const scripts = [...document.scripts];
  const fromData = scripts.filter(s => /alert\\(/.test(s.textContent) || /alert/.test(s.src));
  const handlers = [...document.querySelectorAll("*")].flatMap(
    e => [...e.attributes].filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name));
  const badLinks = [...document.querySelectorAll("[href], [src]")]
    .map(e => (e.getAttribute("href") || e.getAttribute("src") || ""))
    .filter(u => /^\\s*(javascript|data|vbscript):/i.test(u.replace(/[\\s\\x00-\\x1f]/g, "")));
  return {
    lost: document.querySelectorAll("short").length,
    scripts: fromData.length,
    iframes: document.querySelectorAll("iframe").length,
    images: [...document.querySelectorAll("article img")].filter(i => i.getAttribute("src") === "x").length,
    handlers, badLinks,
    text: document.querySelector("article").innerText,
    h1: document.querySelector("article h1").innerText.replace("¶", "").trim(),
  };
}"""


def test_hostile_product_text_is_shown_never_run(browser: Any, hostile_url: str) -> None:
    from hostile import RATIONALE_PAYLOAD, SECTION_PAYLOAD, SHORT_TITLE, TITLE_PAYLOAD

    base = "products/hostile-product"
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    problems = _watch(pg, (hostile_url,))
    texts: dict[str, str] = {}
    for rel in (
        "index.html",
        f"{base}/index.html",
        f"{base}/protocol.html",
        f"{base}/module3.html",
        f"{base}/tailoring-register.html",
        f"{base}/amendments.html",
        "placeholders.html",
    ):
        pg.goto(hostile_url + rel)
        seen = pg.evaluate(_INJECTED)
        assert seen["scripts"] == 0 and seen["iframes"] == 0 and seen["images"] == 0, rel
        assert seen["handlers"] == [] and seen["badLinks"] == [], rel
        assert seen["h1"], f"{rel}: empty H1"
        assert seen["lost"] == 0, f"{rel}: the placeholder {SHORT_TITLE} became a tag"
        header = pg.locator(".md-header__topic").all_text_contents()
        assert all(t.strip() for t in header), f"{rel}: blank header {header}"
        texts[rel] = seen["text"]
    # the payloads are there to read, literally
    assert TITLE_PAYLOAD in texts[f"{base}/index.html"]
    assert f"Protocol draft: {SHORT_TITLE}" in texts[f"{base}/protocol.html"]
    assert "click me" in texts[f"{base}/module3.html"]  # the link payload, inert, as text
    assert "L<script>alert(8)</script>" in texts[f"{base}/module3.html"]
    # a rationale is shown as typed: not evaluated, not Markdown-escaped twice, one cell
    assert RATIONALE_PAYLOAD in texts[f"{base}/amendments.html"]
    pg.goto(hostile_url + f"{base}/protocol.html")
    assert pg.title() == f"Protocol draft — {SHORT_TITLE} - {SHORT_TITLE}"
    topics = " ".join(pg.locator(".md-header__topic").all_text_contents())
    assert f"Protocol draft — {SHORT_TITLE}" in topics
    assert SHORT_TITLE in pg.locator("nav.md-nav--primary").inner_text()
    assert SECTION_PAYLOAD.split(" and [styled]")[0] in texts[f"{base}/protocol.html"]
    # search renders results from the same texts
    pg.goto(hostile_url + "index.html")
    _search(pg, "onerror")
    assert pg.locator(".md-search-result__item").count() >= 1
    seen = pg.evaluate(_INJECTED)
    assert seen["scripts"] == 0 and seen["iframes"] == 0 and seen["handlers"] == []
    _shot(pg, "hostile-search")
    context.close()
    assert problems == [], "\n".join(problems)


def test_pipe_in_a_lot_id_stays_in_one_cell(browser: Any, hostile_url: str) -> None:
    from hostile import PIPE_LOT

    context = browser.new_context()
    pg = context.new_page()
    pg.goto(hostile_url + "products/hostile-product/module3.html")
    cells = pg.locator("article td").all_inner_texts()
    context.close()
    assert PIPE_LOT in cells


# --------------------------------------------------------------------------- accessibility


def _axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is missing at {AXE}: .ci/run installs it with npm")
        pytest.skip(
            "axe-core is not installed: run `npm install --prefix tests/site` "
            "(no-package-lock) to run the accessibility checks"
        )
    return AXE.read_text("utf-8")


@pytest.mark.parametrize("kind", sorted(PAGE_TYPES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(
    browser: Any, base_url: str, kind: str, scheme: str
) -> None:
    source = _axe_source()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, color_scheme=scheme)
    pg = context.new_page()
    pg.goto(base_url + PAGE_TYPES[kind])
    pg.wait_for_timeout(300)  # Material mounts its components after load
    pg.add_script_tag(content=source)
    result = pg.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length,"
        " target: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    context.close()
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], "\n".join(
        f"{v['id']} ({v['impact']}) ×{v['n']}: {v['target']}" for v in serious
    )


# --------------------------------------------------------------------------- screenshots


@pytest.mark.parametrize(
    "view",
    [
        {"name": "desktop", "width": 1366, "scheme": "light"},
        {"name": "mobile", "width": 390, "scheme": "light"},
        {"name": "dark", "width": 1366, "scheme": "dark"},
        {"name": "print", "width": 1366, "scheme": "light", "print": True},
        {"name": "file", "width": 1366, "scheme": "light", "file": True},
    ],
    ids=lambda v: v["name"],
)
def test_screenshots(browser: Any, built_site: Path, base_url: str, view: dict[str, Any]) -> None:
    """Pictures of each page type for review; each page must load without errors."""
    root = built_site.resolve().as_uri() + "/" if view.get("file") else base_url
    context = browser.new_context(
        viewport={"width": view["width"], "height": 900},
        color_scheme=view["scheme"],
        is_mobile=view["width"] < 500,
    )
    pg = context.new_page()
    problems = _watch(pg, (root,))
    for kind in ("home", "element", "register", "protocol", "cmc-matrix"):
        pg.goto(root + PAGE_TYPES[kind])
        if view.get("print"):
            pg.emulate_media(media="print")
        if kind == "protocol" and not view.get("print"):
            pg.goto(root + PAGE_TYPES[kind] + "#m11-12-4")
        assert pg.locator("article h1").first.inner_text().strip()
        _shot(
            pg, f"{view['name']}-{kind}", full_page=bool(view.get("print")) and kind != "protocol"
        )
    context.close()
    assert problems == [], "\n".join(problems)
