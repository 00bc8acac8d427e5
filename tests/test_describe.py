"""A reference shortened to author, year and title, across citation styles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.extract.describe import Description, describe


@pytest.mark.parametrize(("text", "author", "year", "title"), [
    # APA and its cousins
    ("Hashimoto, R. (1997, July 24). Address to the Japan Association of Corporate Executives. Retrieved July 20, "
     "2020, from http://www.kantei.go.jp/foreign/0731douyukai.html",
     "Hashimoto", "1997", "Address to the Japan Association of Corporate Executives"),
    ("Bender, E. M., Gebru, T., McMillan-Major, A., & Shmitchell, S. (2021). On the dangers of stochastic parrots. "
     "https://doi.org/10.1145/3442188.3445922", "Bender et al.", "2021", "On the dangers of stochastic parrots"),
    ("Asian Development Bank. (2019). CAREC 2030: Connecting the region for shared and sustainable development. "
     "Manila, Philippines: Author.", "Asian Development Bank", "2019",
     "CAREC 2030: Connecting the region for shared and sustainable development"),
    ("García, M. y López, A. (2018). La política exterior de Japón en Asia Central. Revista CIDOB, (118), 45–67.",
     "García and López", "2018", "La política exterior de Japón en Asia Central"),
    # Harvard
    ("Carnegie Endowment for International Peace (2015) Japan's Central Asia tour. Available at: "
     "https://carnegieendowment.org/2015/10/27/x (Accessed: February 2016).",
     "Carnegie Endowment for International Peace", "2015", "Japan's Central Asia tour"),
    # MLA and Chicago
    ('Aso, Taro. "Central Asia as a Corridor of Peace and Stability." Ministry of Foreign Affairs of Japan, 1 June '
     "2006, www.mofa.go.jp/region/europe/speech0606.html. Accessed 3 Mar. 2021.",
     "Aso", "2006", "Central Asia as a Corridor of Peace and Stability"),
    ("Cohen, Daniel J., and Roy Rosenzweig. Digital History: A Guide to Gathering, Preserving, and Presenting the "
     "Past on the Web. Philadelphia: University of Pennsylvania Press, 2005.",
     "Cohen and Rosenzweig", "2005",
     "Digital History: A Guide to Gathering, Preserving, and Presenting the Past on the Web"),
    # IEEE
    ('[1] A. Kumar and B. Singh, "Grid-scale storage in Central Asia," IEEE Trans. Power Syst., vol. 35, no. 4, '
     "pp. 2101–2112, 2020, doi: 10.1109/TPWRS.2020.2971234.", "Kumar and Singh", "2020",
     "Grid-scale storage in Central Asia"),
    # Vancouver
    ("1. Smith J, Brown K. Tuberculosis in Central Asia: a review. Lancet Infect Dis. 2019;19(3):e45-e52.",
     "Smith and Brown", "2019", "Tuberculosis in Central Asia: a review"),
    ("2. World Health Organization. Global tuberculosis report 2020 [Internet]. Geneva: WHO; 2020 "
     "[cited 2021 Mar 3]. Available from: https://www.who.int/publications/i/item/9789240013131",
     "World Health Organization", "2020", "Global tuberculosis report 2020"),
    ("Acemoglu D, Johnson S, Robinson JA (2001) The colonial origins of comparative development. Am Econ Rev "
     "91(5):1369–1401", "Acemoglu et al.", "2001", "The colonial origins of comparative development"),
    # GOST
    ("1. Лаумулин М. Т. Центральная Азия в зарубежной политологии и мировой геополитике. Т. 5. – Алматы : КИСИ, "
     "2009. – 280 с.", "Лаумулин", "2009", "Центральная Азия в зарубежной политологии и мировой геополитике"),
    ("Шанхайская организация сотрудничества [Электронный ресурс] // Википедия. – URL: "
     "https://ru.wikipedia.org/wiki/ШОС (дата обращения: 12.03.2021).", None, None,
     "Шанхайская организация сотрудничества"),
    # Japanese and Chinese
    ("1. 外務省「開発協力大綱」2015年2月10日、https://www.mofa.go.jp/mofaj/gaiko/oda/files/000067688.pdf（2021年3月3日閲覧）。",
     "外務省", "2015", "開発協力大綱"),
    ("[1] 国家统计局. 中国统计年鉴2020[EB/OL]. (2020-09-30)[2021-03-03]. http://www.stats.gov.cn/tjsj/ndsj/2020/.",
     "国家统计局", "2020", "中国统计年鉴2020"),
    # Czech ČSN ISO 690, authors in capitals
    ("NOVÁK, Jan. Vodní hospodářství v Česku. Vodní hospodářství [online]. 2019, roč. 69, č. 4 [cit. 2020-07-20].",
     "Novák", "2019", "Vodní hospodářství v Česku"),
    ("MINISTERSTVO ŽIVOTNÍHO PROSTŘEDÍ. Plánování v oblasti vod [online]. Praha: MŽP, 2020 [cit. 2021-03-03].",
     "Ministerstvo Životního Prostředí", "2020", "Plánování v oblasti vod"),
    # no author: the title comes first, as in the seed lists
    ("Address by Prime Minister Ryutaro Hashimoto to the Japan Association of Corporate executives. 24 July 1997. "
     "Prime Minister of Japan and his cabinet - www.kantei.go.jp/foreign/0731douyukai.html (accessed: 20.07.2020)",
     None, "1997", "Address by Prime Minister Ryutaro Hashimoto to the Japan Association of Corporate executives"),
    ("Green, M. Japan’s reluctant realism. Foreign Policy Challenges in an Era of Uncertain Power. Palgrave "
     "MacMillan. 2001. 368 p.", "Green", "2001", "Japan’s reluctant realism"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_description_of_a_reference(text, author, year, title):
    assert describe(text) == Description(author, year, title)


@pytest.mark.parametrize(("description", "short"), [
    (Description("Hashimoto", "1997", "Address to the Japan Association of Corporate Executives"),
     "Hashimoto (1997). Address to the Japan Association of Corporate Executives"),
    (Description("Aso", None, "Speech"), "Aso. Speech"),
    (Description(None, "2019", "Shanghai Cooperation Organisation"), "Shanghai Cooperation Organisation (2019)"),
    (Description("Aso", "2006", None), "Aso (2006)"),
    (Description(None, None, None), ""),
])
def test_short_form(description, short):
    assert description.short == short


def test_a_long_title_is_cut_at_a_word():
    short = Description("Long", "2020", "word " * 40).short
    assert short.startswith("Long (2020). word word") and short.endswith("word…")
    assert len(short) <= len("Long (2020). ") + 111


@given(st.text(max_size=3000))
def test_describe_never_raises_and_stays_short(text):
    description = describe(text)
    assert len(description.short) <= 1400


def test_describe_reads_only_a_bounded_prefix():
    """The same prefix gives the same answer, so a 12 MB reference costs what a short one does."""
    huge = "Smith, J. (2019). " + "word. " * 2_000_000
    assert describe(huge) == describe(huge[:1200]) == Description("Smith", "2019", "word")
