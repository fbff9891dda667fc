"""`labopt plan --report report.html`: one self-contained page, in English or Vietnamese, that
headless Chromium opens with the network cut off and prints to A4 (PNG and PDF kept as test
artefacts under LABOPT_ARTEFACTS, default test-artefacts/report)."""

from __future__ import annotations

import html
import re

import pytest

from labopt import __version__
from tests.cli.helpers import refused, run
from tests.cli.test_vietnamese import ENGLISH, EXAMPLES, english_in, scenario_words
from tests.schedule.test_charts import ARTEFACTS

A4_POINTS = (595.3, 841.9)  # width, height of an A4 page in PDF points (1/72 inch)


def page_text(page: str) -> str:
    """The words a reader sees: tags, styles and embedded pictures out."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("example", ["thanh_hoa", "thanh_hoa_variant"])
def test_the_report_page_opens_offline_and_prints_on_a4(example, lang, tmp_path, browser):
    path = tmp_path / "report.html"
    r = run("plan", EXAMPLES / example, "--report", path, "--lang", lang)
    assert r.exit_code == 0, r.output
    page = path.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch
    pictures = re.findall(r'<img src="data:image/png;base64,', page)
    assert len(pictures) == 5
    words = page_text(page).replace(f"labopt {__version__}", " ")
    data = scenario_words(EXAMPLES / example)
    found, numbers = english_in(words, data)
    if lang == "vi":
        assert not found and not numbers, (found, numbers)
        assert "Từng ngày" in words and "80.000" in words
    else:
        assert {"samples", "reactions"} <= found and "80,000" in words

    requests: list[str] = []
    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    view = context.new_page()
    view.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
    view.goto(path.as_uri())
    assert view.title() == html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))
    widths = view.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
    assert widths and all(done and w > 100 for done, w in widths)  # every chart decoded
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    folder = ARTEFACTS / "report"
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{example}_{lang}.png"
    view.screenshot(path=str(png), full_page=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = folder / f"{example}_{lang}.pdf"
    view.pdf(path=str(pdf), format="A4", print_background=True)
    data_pdf = pdf.read_bytes()
    assert data_pdf[:5] == b"%PDF-"
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data_pdf)
    sizes = [(float(w), float(h)) for w, h in boxes]  # Chromium's A4: 8.27 x 11.7 inches
    assert sizes and all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in sizes)
    # the page's content is no wider than the paper: nothing cut at the right edge
    scroll = view.evaluate("document.documentElement.scrollWidth")
    view.emulate_media(media="print")
    assert view.evaluate("document.documentElement.scrollWidth") <= scroll
    context.close()


def test_the_report_never_replaces_a_file_unless_asked(tmp_path):
    path = tmp_path / "mine.html"
    path.write_text("the user's own page", encoding="utf-8")
    refused(run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--report", path), "--force")
    assert path.read_text(encoding="utf-8") == "the user's own page"
    r = run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--report", path, "--force")
    assert r.exit_code == 0, r.output
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    scenario = EXAMPLES / "thanh_hoa" / "demand.csv"  # never over a file the plan reads
    before = scenario.read_bytes()
    refused(run("plan", EXAMPLES / "thanh_hoa", "--report", scenario, "--force"), "--report")
    assert scenario.read_bytes() == before


def test_the_report_lists_each_day_and_names_each_unit_of_day_one(tmp_path):
    path = tmp_path / "r.html"
    assert run("plan", EXAMPLES / "thanh_hoa", "--report", path).exit_code == 0
    text = page_text(path.read_text(encoding="utf-8"))
    for day in range(4, 11):
        assert f"2021-10-{day:02d}" in text
    data = scenario_words(EXAMPLES / "thanh_hoa")
    assert "Huyện Bá Thước" in text and "Trung tâm Kiểm soát bệnh tật tỉnh Thanh Hóa" in text
    assert ENGLISH and data  # the same vocabulary as the terminal's check


def test_a_refused_report_path_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "o"
    # inside the folder the same command writes
    refused(run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--out", out,
                "--report", out / "r.html"), "--report", "inside")  # fmt: skip
    assert not out.exists()
    # an existing file, without --force: nothing of --out is written either
    page = tmp_path / "r.html"
    page.write_text("mine", encoding="utf-8")
    refused(run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--out", out,
                "--report", page), "--report", "--force")  # fmt: skip
    assert not out.exists() and page.read_text(encoding="utf-8") == "mine"
    # a folder's marker, even with --force
    assert run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--out", out).exit_code == 0
    marker = out / ".labopt-output"
    before = marker.read_bytes()
    refused(run("plan", EXAMPLES / "thanh_hoa", "--days", "2", "--report", marker,
                "--force"), "--report")  # fmt: skip
    assert marker.read_bytes() == before
