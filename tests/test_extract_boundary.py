"""One input cannot stop the others: the per-document boundary of extraction."""

from __future__ import annotations

import os
import sys

import pytest

import crawler.extract as extract_module
from crawler.extract import extract_all
from crawler.extract.sources import read_document as real_read_document

GOOD = "Aso, T. Speech. http://www.mofa.go.jp/region/europe/speech0606.html (accessed 3 March 2021)\n"


@pytest.fixture
def two_files(tmp_path):
    bad = tmp_path / "a-bad.txt"
    good = tmp_path / "b-good.txt"
    bad.write_text("1. Kono, T. https://www.example.org/one\n2. Iwashita, A. https://www.example.org/two\n",
                   encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    return bad, good


def test_a_reader_that_raises_before_any_entry_costs_only_its_file(two_files, monkeypatch):
    bad, good = two_files

    def reader(document, **options):
        if document.source == str(bad):
            raise RuntimeError("a bug this input found")
        yield from real_read_document(document, **options)

    monkeypatch.setattr(extract_module, "read_document", reader)
    extraction = extract_all([str(bad), str(good)])
    assert [link.url for link in extraction.links] == ["http://www.mofa.go.jp/region/europe/speech0606.html"]
    [error] = extraction.errors
    assert error.source == str(bad)
    assert error.message == "could not be read (RuntimeError: a bug this input found)"
    assert "\n" not in str(error)


def test_a_reader_that_raises_midway_keeps_what_it_read_and_names_the_line(two_files, monkeypatch):
    bad, good = two_files

    def reader(document, **options):
        for entry in real_read_document(document, **options):
            yield entry
            if document.source == str(bad):
                raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(extract_module, "read_document", reader)
    extraction = extract_all([str(bad), str(good)])
    assert [link.url for link in extraction.links] == [
        "https://www.example.org/one", "http://www.mofa.go.jp/region/europe/speech0606.html"]
    [error] = extraction.errors
    assert error.source == f"{bad}:1"
    assert "RecursionError" in error.message and "the rest of the file was skipped" in error.message


def test_a_reference_that_cannot_be_read_is_skipped_and_the_next_read(two_files, monkeypatch):
    bad, good = two_files
    real_read_entry = extract_module.read_entry

    def read_entry(entry, **options):
        if "one" in entry.text:
            raise ValueError("odd input\nwith a second line")
        return real_read_entry(entry, **options)

    monkeypatch.setattr(extract_module, "read_entry", read_entry)
    extraction = extract_all([str(bad), str(good)])
    assert [link.url for link in extraction.links] == [
        "https://www.example.org/two", "http://www.mofa.go.jp/region/europe/speech0606.html"]
    [error] = extraction.errors
    assert (error.source, error.fatal) == (f"{bad}:1", False)
    assert error.message == "reference could not be read (ValueError: odd input); skipped"


def test_a_bytes_to_bytes_codec_is_refused_in_one_line(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(GOOD, encoding="utf-8")
    [error] = extract_all([str(path)], encoding="rot13").errors
    assert error.message == "“rot13” is not a text encoding"


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_shown_with_escapes(tmp_path):
    name = os.fsdecode(b"list-\xff.txt")
    (tmp_path / name).write_text(GOOD, encoding="utf-8")
    [link] = extract_all([str(tmp_path)]).links
    source = link.citations[0].reference.source
    assert source.endswith("list-\\xff.txt")
    source.encode("utf-8")


def test_a_file_named_twice_is_read_once(tmp_path):
    path = tmp_path / "refs.txt"
    path.write_text(GOOD, encoding="utf-8")
    extraction = extract_all([str(path), str(path), str(tmp_path / "." / "refs.txt")])
    assert len(extraction.references) == 1
    assert len(extraction.links[0].citations) == 1


def test_a_file_reached_through_its_directory_and_by_name_is_read_once(tmp_path):
    (tmp_path / "lists").mkdir()
    path = tmp_path / "lists" / "refs.txt"
    path.write_text(GOOD, encoding="utf-8")
    (tmp_path / "lists" / "other.txt").write_text("Kono, T. https://www.example.org/other\n", encoding="utf-8")
    extraction = extract_all([str(path), str(tmp_path / "lists")])
    assert len(extraction.references) == 2
    assert [link.citations[0].reference.source for link in extraction.links] == [
        str(path), str(tmp_path / "lists" / "other.txt")]


def test_a_symbolic_link_to_a_file_already_read_is_not_read_again(tmp_path):
    path = tmp_path / "refs.txt"
    path.write_text(GOOD, encoding="utf-8")
    (tmp_path / "alias.txt").symlink_to(path)
    assert len(extract_all([str(tmp_path)]).references) == 1


def test_a_url_cited_twice_keeps_the_doubt_and_the_readings_of_either_citation():
    from crawler.model import MAX_ALTERNATIVES, Citation, Link, Reference

    sure = Citation(Reference("a.txt", 1, "A"), "https://osce.org/files/annual-", "osce.org/files/annual-")
    guessed = Citation(Reference("a.txt", 5, "B"), "https://osce.org/files/annual-", "osce.org/files/annual-",
                       alternatives=tuple(f"https://osce.org/files/annual-{n}.pdf" for n in range(6)), uncertain=True)
    link = Link.from_citation(sure)
    link.add(guessed)
    assert link.uncertain
    assert link.alternatives == guessed.alternatives[:MAX_ALTERNATIVES]
