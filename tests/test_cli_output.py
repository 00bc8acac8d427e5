"""Where a report goes: every output error is found before any work, and the file is written as users expect."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from crawler.cli import main
from sites import FakeWeb, page

REFS = "1. Aso, T. Speech. http://www.mofa.go.jp/region/europe/speech0606.html (accessed 3.3.2021)\n"
CONFIG = '[check]\nretries = 0\ncanary_urls = ["http://canary.test/"]\n\n[archive]\nenabled = false\n'


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.txt"
    path.write_text(REFS, encoding="utf-8")
    return path


@pytest.fixture
def fake():
    with FakeWeb() as site:
        site.route("canary.test", "/", page("Canary"))
        site.route("www.mofa.go.jp", "/region/europe/speech0606.html", page("Speech by Mr. Taro Aso"))
        yield site


def audit(fake: FakeWeb, tmp_path: Path, *args: str) -> int:
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return main(["audit", *args, "--config", str(config), "--connect-to", f"::127.0.0.1:{fake.http_port}", "--quiet"])


def unwritable_directory() -> Path:
    """A directory nobody may create files in, root included (sysfs)."""
    path = Path("/sys")
    if not path.is_dir() or os.access(path, os.W_OK) and os.geteuid() != 0:
        pytest.skip("no read-only directory on this system")
    return path


@pytest.mark.parametrize("where", ["directory", "missing parent", "under a file", "unwritable parent"])
def test_output_error_is_one_line_before_any_request(fake, tmp_path, refs, capsys, where):
    target = {
        "directory": tmp_path,
        "missing parent": tmp_path / "no" / "such" / "report.md",
        "under a file": refs / "report.md",
        "unwritable parent": unwritable_directory() / "report.md" if where == "unwritable parent" else None,
    }[where]
    assert audit(fake, tmp_path, str(refs), "--output", str(target)) == 2
    err = capsys.readouterr().err
    assert err.startswith("crawler: error: cannot write ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert fake.seen == []  # found before the audit ran


def test_output_naming_an_input_is_refused(fake, tmp_path, refs, capsys):
    assert audit(fake, tmp_path, str(refs), "--output", str(refs)) == 2
    assert "it is one of the inputs" in capsys.readouterr().err
    assert refs.read_text(encoding="utf-8") == REFS


def test_output_inside_an_input_directory_that_would_be_read_next_time_is_refused(fake, tmp_path, refs, capsys):
    assert audit(fake, tmp_path, str(tmp_path), "--output", str(tmp_path / "report.md")) == 2
    assert "would be read as a reference list" in capsys.readouterr().err


def test_dash_writes_the_report_to_stdout(fake, tmp_path, refs, capsys):
    assert audit(fake, tmp_path, str(refs), "--output", "-", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["links"][0]["verdict"] == "alive"


def test_format_follows_the_output_extension(fake, tmp_path, refs):
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    assert audit(fake, tmp_path, str(refs), "--output", str(out)) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["schema"] == "crawler.report/2"


def test_format_that_contradicts_the_extension_is_refused(fake, tmp_path, refs, capsys):
    assert audit(fake, tmp_path, str(refs), "--output", str(tmp_path / "x.json"), "--format", "markdown") == 2
    assert "does not match the extension" in capsys.readouterr().err


def test_report_respects_the_umask(fake, tmp_path, refs):
    out = tmp_path / "report.md"
    old = os.umask(0o027)
    try:
        assert audit(fake, tmp_path, str(refs), "--output", str(out)) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_replaced_report_keeps_its_mode(fake, tmp_path, refs):
    out = tmp_path / "report.md"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o644)
    assert audit(fake, tmp_path, str(refs), "--output", str(out)) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert out.read_text(encoding="utf-8").startswith("# Reference links")


def test_writing_through_a_symlink_replaces_its_target_and_keeps_the_link(fake, tmp_path, refs):
    (tmp_path / "archive").mkdir()
    target = tmp_path / "archive" / "2026-12-01.md"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    assert audit(fake, tmp_path, str(refs), "--output", str(link)) == 0
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").startswith("# Reference links")
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == ["2026-12-01.md"]  # no temporary file


def test_file_name_with_terminal_escapes_cannot_steer_the_terminal(tmp_path, capsys):
    name = tmp_path / "a\x1b]0;PWNED\x07\x1b[2J.txt"
    assert main(["extract", str(name), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]0;PWNED" in err


def test_paragraph_citing_1909_urls_gives_a_report_proportional_to_it(tmp_path):
    words = " ".join(f"see https://example{n % 97}.org/path/{n}/article-{n}.html for details of case {n};"
                     for n in range(1909))
    paragraph = (words + " " + "prose " * ((200_000 - len(words)) // 6)).strip()
    refs = tmp_path / "paragraph.txt"
    refs.write_text(paragraph + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["extract", str(refs), "--output", str(out), "--quiet"]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["links"]) == 1909
    assert out.stat().st_size < 2_000_000
