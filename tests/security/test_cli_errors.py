"""The CLI never shows a traceback: a bug of ours is one line and exit 3 (README, exit codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import api, cli


def test_internal_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], minimal_product: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "check", broken)
    monkeypatch.delenv("PROTOCMC_DEBUG", raising=False)
    monkeypatch.setattr("sys.argv", ["protocmc", "check", str(minimal_product)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("internal error: RuntimeError: boom.")
    assert len(err.strip().splitlines()) <= 3  # one message, soft-wrapped at most


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, minimal_product: Path) -> None:
    monkeypatch.setattr(api, "check", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    monkeypatch.setenv("PROTOCMC_DEBUG", "1")
    monkeypatch.setattr("sys.argv", ["protocmc", "check", str(minimal_product)])
    with pytest.raises(RuntimeError):
        cli.main()


def test_markup_and_emoji_codes_print_as_typed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    product = tmp_path / "product.yaml"
    product.write_text('"[/red]": 1\n":100:": 2\n"[pg per 10e6 cells]": 3\n', "utf-8")
    monkeypatch.setattr("sys.argv", ["protocmc", "check", str(product)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "'[/red]'" in err and "':100:'" in err and "'[pg per 10e6 cells]'" in err
    assert "💯" not in err and "Traceback" not in err
