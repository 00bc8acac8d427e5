"""How plain text is split into references."""

from __future__ import annotations

from crawler.extract.split import split_entries


def entries(text: str) -> list[tuple[int, str]]:
    return [(e.line, " ".join(e.text.split())) for e in split_entries(text.split("\n"), "t.txt")]


def test_numbered_entries():
    assert entries("1. Aso, T. Speech.\n2. Kono, T. Article.\n3. Abe, S. Speech.") == [
        (1, "Aso, T. Speech."), (2, "Kono, T. Article."), (3, "Abe, S. Speech.")]


def test_bracket_numbered_entries_with_continuation_lines():
    text = "[1] Aso, T. Central Asia as a Corridor of Peace\nand Stability. 2006.\n[2] Kono, T. Article."
    assert entries(text) == [(1, "Aso, T. Central Asia as a Corridor of Peace and Stability. 2006."),
                             (3, "Kono, T. Article.")]


def test_a_wrapped_line_starting_with_a_year_is_not_a_new_number():
    text = "1. Green, M. Japan's reluctant realism. Palgrave.\n2001. 368 p.\n2. Hirose, T. Diplomacy."
    assert [line for line, _ in entries(text)] == [1, 3]


def test_dashed_entries_with_or_without_a_space_and_unmarked_continuations():
    text = ("- Callahan, William A. (2016), “China’s Belt and Road Initiative and the\n"
            "New Eurasian Order”, Norwegian Institute.\n"
            "-Dadabaev, T. (2012), “Securing Central Asian Frontiers”.\n"
            "\u00a0-“Agreement between the Governments”, Available at: x")
    assert [line for line, _ in entries(text)] == [1, 3, 4]
    assert entries(text)[0][1].endswith("and the New Eurasian Order”, Norwegian Institute.")


def test_mla_three_dashes_are_a_new_reference_not_a_bullet():
    text = "- Aso, Taro. Speech. 2006.\n---. Other speech. 2007.\n"
    assert [line for line, _ in entries("Aso, Taro. Speech. 2006.\n---. Other speech. 2007.")] == [1, 2]
    assert len(entries(text)) == 2


def test_blank_lines_separate_entries():
    assert [line for line, _ in entries("Aso, T. Speech\n\nKono, T. Article")] == [1, 3]


def test_hanging_indent_continues_the_entry():
    text = "Aso, T. Central Asia as a Corridor\n    of Peace and Stability.\nKono, T. Article."
    assert entries(text) == [(1, "Aso, T. Central Asia as a Corridor of Peace and Stability."),
                             (3, "Kono, T. Article.")]


def test_one_reference_per_line_lists_stay_one_per_line():
    text = ("CACO. - https://centrasia.org/cnt2.php?st=1083320274 (accessed 10.06.2023)\n"
            "Dobrinskaya O. The Characteristic Features of Japan’s Soft Power. 2015.\n"
            "Green, M. Japan’s reluctant realism. 2001. 368 p.")
    assert [line for line, _ in entries(text)] == [1, 2, 3]


def test_an_unfinished_sentence_continues_on_the_next_line():
    text = ("Policy Speech by Ms. Yoriko Kawaguchi, Tashkent, Uzbekistan on August 26, 2004\n"
            "\"Adding a New Dimension\". http://www.mofa.go.jp/region/europe/uzbekistan/speech0408.html")
    assert [line for line, _ in entries(text)] == [1]


def test_a_new_author_starts_a_new_reference_even_after_an_unfinished_line():
    assert [line for line, _ in entries("Smith J. Title. Publisher, 2004\nJones K. Other title. 2005.")] == [1, 2]


def test_a_url_broken_across_lines_stays_in_one_entry():
    text = "Aso, T. Speech. https://www.mofa.go.jp/region/eu\nrope/speech0606.html.\nKono, T. Article."
    assert [line for line, _ in entries(text)] == [1, 3]


def test_a_url_on_its_own_line_belongs_to_the_reference_above():
    text = "Smith, J. (2020). Title. Journal, 3(4), 1-10.\nhttps://doi.org/10.1234/abc\nJones, K. Other."
    assert [line for line, _ in entries(text)] == [1, 3]


def test_a_plain_list_of_urls_is_one_reference_per_url():
    text = "https://www.un.org/en/\nhttps://www.osce.org/\nhttps://www.mofa.go.jp/"
    assert [line for line, _ in entries(text)] == [1, 2, 3]


def test_an_access_line_belongs_to_the_reference_above():
    text = "Aso, T. Speech. https://www.mofa.go.jp/a.html\n(accessed 3 March 2021)\nKono, T. Article."
    assert [line for line, _ in entries(text)] == [1, 3]


def test_endless_paragraph_is_cut_into_bounded_entries():
    lines = [f"and the story went on without a full stop, line {n} of it" for n in range(1000)]
    entries = list(split_entries(lines, "t.txt"))
    assert len(entries) > 10
    assert max(len(e.text.splitlines()) for e in entries) <= 60


def test_a_line_ending_in_an_abbreviation_continues():
    text = ("Laruelle, M., & Royce, D. (2020). No great game: Central Asia's opinions on Russia, China, and the U.S.\n"
            "Kennan Cable No. 56. Wilson Center. https://www.wilsoncenter.org/publication/kennan-cable-no-56")
    assert [line for line, _ in entries(text)] == [1]


def test_a_page_count_ends_a_reference():
    text = "VAÏSSE, Maurice. La grandeur. Paris : Fayard, 1998. 726 p.\nWIKIPÉDIA. Politique étrangère de la France."
    assert [line for line, _ in entries(text)] == [1, 2]


def test_apa_date_wrapped_from_its_author_or_title_continues():
    text = ("Ministry of Foreign Affairs of the Republic of Uzbekistan.\n(2020). Foreign policy priorities.\n"
            "Radio Free Europe/Radio Liberty. (2022, January 6).\nKazakh president says terrorists trained abroad.")
    assert [line for line, _ in entries(text)] == [1, 3]


def test_each_numbered_entry_carries_its_number():
    text = "1. Aso, T. Speech.\n2) Kono, T. Article.\n[3] Abe, S. Speech.\n- Hirose, T. Diplomacy."
    assert [e.number for e in split_entries(text.split("\n"), "t.txt")] == [1, 2, 3, None]


def test_numbers_of_any_length_start_references():
    lines = [f"{n}. Author{n}, A. Title. https://www.example.org/ref/{n}" for n in range(1, 1003)]
    found = list(split_entries(lines, "t.txt"))
    assert len(found) == 1002
    assert [e.number for e in found[-3:]] == [1000, 1001, 1002]
    assert found[-1].line == 1002 and found[-1].text.endswith("/ref/1002")


def test_five_digit_bracket_numbers_start_references():
    lines = ["[19999] Aso, T. Speech.", "[20000] Kono, T. Article."]
    assert [e.number for e in split_entries(lines, "t.txt")] == [19999, 20000]


def test_a_wrapped_line_starting_with_a_year_starts_no_list():
    text = "Wilson Center. “Telegram.” Accessed May 5,\n    2019. https://digitalarchive.wilsoncenter.org/document/116178."
    assert [(e.line, e.number) for e in split_entries(text.split("\n"), "t.txt")] == [(1, None)]


def test_an_iso_690_publication_statement_continues_the_reference_above():
    text = ("ČESKÝ STATISTICKÝ ÚŘAD. Vodovody, kanalizace a vodní toky – 2020 [online].\n"
            "Praha: ČSÚ, 2021 [cit. 2021-09-14]. Dostupné z: https://www.czso.cz/csu/czso/vodovody-2020\n"
            "HANEL, Martin. Revisiting the recent European droughts. Scientific Reports [online].\n"
            "2018, 8, 9499 [cit. 2021-05-10]. Dostupné z: doi:10.1038/s41598-018-27464-4\n"
            "HYDROPROJEKT CZ. Studie proveditelnosti [online].\n"
            "Praha, 2020 [cit. 3. 3. 2021]. Dostupné z: https://www.hydroprojekt.cz/studie.pdf\n")
    assert [line for line, _ in entries(text)] == [1, 3, 5]


def test_an_organisation_with_a_colon_still_starts_a_reference_of_its_own():
    text = ("World Bank. Water in Central Asia. Washington, DC, 2019.\n"
            "UNESCO: World Water Development Report, 2020. https://www.unesco.org/reports/wwdr/2020\n")
    assert [line for line, _ in entries(text)] == [1, 2]
