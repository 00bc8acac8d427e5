"""`crawler extract` as a user runs it: inputs, formats, bad input and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEEDS
from crawler.cli import main

REFS = "Aso, T. Speech. http://www.mofa.go.jp/region/europe/speech0606.html (accessed 3 March 2021)\n"


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "crawler", *args], input=stdin, capture_output=True,
                            cwd=cwd, timeout=60)
    result.stdout = result.stdout.decode("utf-8")
    result.stderr = result.stderr.decode("utf-8")
    return result


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.txt"
    path.write_text(REFS, encoding="utf-8")
    return path


def test_clean_list_exits_zero(refs, capsys):
    assert main(["extract", str(refs), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["summary"]["references"], report["summary"]["links"], report["summary"]["problems"]["total"]) \
        == (1, 1, 0)


def test_problems_exit_one(capsys):
    assert main(["extract", str(SEEDS), "--quiet"]) == 1


def test_directory_is_read_recursively(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text(REFS, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("http://www.hidden.org/x\n", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["extract", str(tmp_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [link["url"] for link in report["links"]] == ["http://www.mofa.go.jp/region/europe/speech0606.html"]


def test_stdin_is_read_with_a_dash():
    result = run("extract", "-", "--format", "json", stdin=REFS.encode())
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["references"][0]["source"] == "<stdin>"


def test_missing_file_is_named_and_the_rest_still_read(refs, capsys):
    code = main(["extract", "no-such-file.txt", str(refs), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1
    assert "crawler: error: no-such-file.txt: no such file or directory" in captured.err
    report = json.loads(captured.out)
    assert len(report["links"]) == 1
    assert report["errors"] == [{"source": "no-such-file.txt", "message": "no such file or directory"}]


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "is a PDF"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", "is a binary file"),
    ("Доклад. http://www.ng.ru/x (дата обращения: 12.03.2021)\n".encode("cp1251"), "is not valid UTF-8 text"),
])
def test_unreadable_file_gets_one_clear_line(tmp_path, refs, capsys, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    code = main(["extract", str(bad), str(refs), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 1
    [line] = [l for l in err.splitlines() if "error" in l]
    assert str(bad) in line and message in line
    assert "Traceback" not in err


def test_undecodable_file_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nsecond\n\xff broken\n")
    main(["extract", str(bad)])
    assert "on line 3" in capsys.readouterr().err


def test_explicit_encoding_reads_a_legacy_file(tmp_path, capsys):
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes("Доклад. http://www.ng.ru/x (дата обращения: 12.03.2021)\n".encode("cp1251"))
    assert main(["extract", str(legacy), "--encoding", "cp1251", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["links"][0]["citations"][0]["accessed"] == "2021-03-12"


def test_utf16_with_bom_is_read(tmp_path, capsys):
    path = tmp_path / "utf16.txt"
    path.write_bytes(REFS.encode("utf-16"))
    assert main(["extract", str(path), "--format", "json"]) == 0


def test_nothing_readable_exits_two(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope.txt")]) == 2


def test_usage_error_exits_two_without_traceback():
    result = run("extract", "--format", "yaml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr


def test_unknown_command_exits_two():
    assert run("frobnicate").returncode == 2


def test_output_file_is_written_with_no_temporary_file_left(tmp_path, refs):
    (tmp_path / "reports").mkdir()
    out = tmp_path / "reports" / "links.md"
    assert main(["extract", str(refs), "--output", str(out), "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Reference links")
    assert "speech0606.html" in text
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_default_inputs_come_from_the_config(tmp_path, refs):
    config = tmp_path / "conf" / "crawler.toml"
    config.parent.mkdir()
    (config.parent / "references").mkdir()
    (config.parent / "references" / "list.txt").write_text(REFS, encoding="utf-8")
    config.write_text('[inputs]\npaths = ["references"]\n', encoding="utf-8")
    result = run("extract", "--config", str(config), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["links"]) == 1


def test_bad_config_is_a_usage_error(tmp_path, refs):
    config = tmp_path / "crawler.toml"
    config.write_text('[inputs]\nmax_file_byte = 10\n', encoding="utf-8")
    result = run("extract", str(refs), "--config", str(config))
    assert result.returncode == 2
    assert "unknown setting “max_file_byte”" in result.stderr


def test_file_over_the_size_limit_is_skipped(tmp_path, refs, capsys):
    config = tmp_path / "crawler.toml"
    config.write_text('[inputs]\nmax_file_bytes = 10\n', encoding="utf-8")
    assert main(["extract", str(refs), "--config", str(config)]) == 2
    assert "is larger than 10 bytes" in capsys.readouterr().err
