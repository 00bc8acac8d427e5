"""`crawler fix` on the sample list: archived copies after exactly the dead links, nothing else changed."""

from __future__ import annotations

import re
from pathlib import Path

from crawler.cli import main
from sites import FakeWeb
from test_cli_archive import CONFIG, SPEECH, captures
from test_cli_audit import DIALOGUE, TLS_NAMES, _stand_ins
from wayback_fake import FakeWayback

MOVED_FROM = "http://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html"
MOVED_TO = "https://www.mofa.go.jp/mofaj/area/kazakhstan/page1_000148.html"


def fix(tmp: Path, source: Path, out: Path, capsys) -> tuple[int, str]:
    config = tmp / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    wayback = FakeWayback()
    captures(wayback)
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp) as fake:
        _stand_ins(fake)
        fake.fallback("127.0.0.1", wayback.handle)
        wayback.base = f"http://127.0.0.1:{fake.http_port}"
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        code = main(["fix", str(source), "--output", str(out), *rules, "--ca-bundle", fake.ca_file,
                     "--config", str(config), "--wayback-url", wayback.base])
    return code, capsys.readouterr().err


def test_fix_adds_copies_after_exactly_the_dead_links_and_changes_nothing_else(tmp_path, capsys):
    source = tmp_path / "dialogue.txt"
    source.write_bytes(DIALOGUE.read_bytes())
    out = tmp_path / "fixed.txt"
    code, err = fix(tmp_path, source, out, capsys)
    original, fixed = source.read_text(encoding="utf-8"), out.read_text(encoding="utf-8")
    annotations = ANNOTATION_RE.findall(fixed)
    # The two dead links with a good capture (two more dead links have none: they are lost).
    assert [(cited, date) for cited, date, _ in annotations] == [
        ("www.kantei.go.jp/foreign/0731douyukai.html", "2015-03-01"), (SPEECH, "2018-01-01")]
    assert annotations[0][2].endswith("/web/20150301000000/https://www.kantei.go.jp/foreign/0731douyukai.html")
    assert annotations[1][2].endswith(f"/web/20180101000000/{SPEECH}")
    # Undo the copies and the moved URL: every other byte is the original's.
    undone = ANNOTATION_RE.sub(lambda m: m.group(1), fixed).replace(MOVED_TO, MOVED_FROM)
    assert undone == original
    assert MOVED_TO in fixed
    assert "2 archived copies added, 1 moved URL updated, 2 dead links without an archived copy" in err


ANNOTATION_RE = re.compile(r"(\S+) \[archived (\d{4}-\d{2}-\d{2}): (\S+)\]")


def test_fix_twice_changes_nothing_the_second_time(tmp_path, capsys):
    source = tmp_path / "dialogue.txt"
    source.write_bytes(DIALOGUE.read_bytes())
    once, twice = tmp_path / "once.txt", tmp_path / "twice.txt"
    fix(tmp_path, source, once, capsys)
    fix(tmp_path, once, twice, capsys)
    assert twice.read_bytes() == once.read_bytes()


def test_fix_refuses_to_overwrite_its_input_through_output(tmp_path, capsys):
    source = tmp_path / "dialogue.txt"
    source.write_bytes(DIALOGUE.read_bytes())
    assert main(["fix", str(source), "--output", str(source)]) == 2
    assert "one of the inputs" in capsys.readouterr().err
    assert source.read_bytes() == DIALOGUE.read_bytes()


def test_fix_refuses_html_before_checking_anything(tmp_path, capsys):
    page = tmp_path / "list.html"
    page.write_text('<html><body><a href="http://www.ng.ru/x.html">x</a></body></html>', encoding="utf-8")
    assert main(["fix", str(page), "--connect-to", "::127.0.0.1:9"]) == 2
    assert "not html" in capsys.readouterr().err
