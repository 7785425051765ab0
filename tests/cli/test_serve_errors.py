"""`protocmc serve` with a product that does not build: real HTTP requests get a page listing
the problems (located, with hints), never a request that hangs, at start and after a broken
save; once fixed, the site is back. Drives the real command in a subprocess on a local port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

ERROR_TITLE = "<title>protocmc: the site could not be built</title>"
# a request that waits longer than this is the hang this test exists for
REQUEST_TIMEOUT = 120
# a rebuild with Word downloads takes seconds; allow a slow machine plenty
REBUILD_DEADLINE = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    """Status and body; raises TimeoutError (socket.timeout) if the server holds the request."""
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def _until(url: str, wanted: bool, proc: subprocess.Popen[str]) -> str:
    """Poll until the error page is (wanted=True) or is not (False) what the server shows."""
    deadline = time.monotonic() + REBUILD_DEADLINE
    while time.monotonic() < deadline:
        assert proc.poll() is None, "protocmc serve stopped"
        try:
            _status, body = _get(url)
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.5)  # not listening yet
            continue
        if (ERROR_TITLE in body) is wanted:
            return body
        time.sleep(0.5)
    raise AssertionError(f"{url} never {'showed' if wanted else 'left'} the error page")


def _break(product: Path) -> None:
    text = product.read_text("utf-8")
    assert "number_of_arms: 1\n" in text
    product.write_text(text.replace("number_of_arms: 1\n", "number_of_arms: [1]\n"), "utf-8")


@pytest.fixture
def product(tmp_path: Path) -> Path:
    folder = tmp_path / "trial"
    shutil.copytree(FIXTURES / "minimal", folder)
    return folder / "product.yaml"


@pytest.fixture
def serve(product: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "product.yaml", "-a", f"127.0.0.1:{port}"],
        cwd=product.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C, as a writer stops it
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_broken_product_shows_its_problems_then_the_site(
    product: Path, serve: tuple[str, subprocess.Popen[str]]
) -> None:
    _break(product)  # broken before the server starts
    url, proc = serve
    page = _until(url, True, proc)
    assert "product.yaml:18:19" in page and "PV020" in page
    assert "number_of_arms" in page and "hint: " in page
    # every path of the site answers with the problems, not only the home page
    status, deep = _get(url + "products/trial/protocol/")
    assert ERROR_TITLE in deep and "PV020" in deep and status == 404

    shutil.copy(FIXTURES / "minimal" / "product.yaml", product)
    site = _until(url, False, proc)
    assert "TEST-1" in site or "Test" in site


def test_a_broken_save_while_serving_shows_the_problems_instead_of_hanging(
    product: Path, serve: tuple[str, subprocess.Popen[str]]
) -> None:
    url, proc = serve
    _until(url, False, proc)  # the site builds
    _break(product)
    page = _until(url, True, proc)  # before the fix, this request waited forever
    assert "PV020" in page and "product.yaml:18:19" in page
    shutil.copy(FIXTURES / "minimal" / "product.yaml", product)
    _until(url, False, proc)


def test_user_text_on_the_error_page_is_escaped(
    product: Path, serve: tuple[str, subprocess.Popen[str]]
) -> None:
    text = product.read_text("utf-8")
    product.write_text(text + 'sections:\n  "<img src=x onerror=alert(1)>": text\n', "utf-8")
    url, proc = serve
    page = _until(url, True, proc)
    assert "PV020" in page
    assert "sections.&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
