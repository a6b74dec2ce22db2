"""report.html: self-contained, navigable, contributor text always escaped."""

from __future__ import annotations

import re

from pipeline.report.areas import AREAS
from pipeline.report.build import build_report


def _build(tmp_path, make_input, finder, encode, settings_for):
    inp = make_input(input_dir=tmp_path / "in")
    out = tmp_path / "out"
    result = build_report(inp, encode, settings_for(), out, find_sentences=finder)
    return inp, result, (out / "report.html").read_text(encoding="utf-8")


def test_hostile_text_is_shown_as_text(tmp_path, make_input, finder, encode_tfidf,
                                       settings_for):
    _, _, page = _build(tmp_path, make_input, finder, encode_tfidf, settings_for)
    # no markup from contributors: no script element at all, no injected tags or handlers
    assert "<script" not in page.lower()
    assert "<b>bold</b>" not in page
    assert "<img" not in page.lower()
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    # ... but the text is there, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Eve &lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; markup &amp; &#34;quotes&#34;" in page


def test_self_contained_no_external_resources(tmp_path, make_input, finder, encode_tfidf,
                                              settings_for):
    _, _, page = _build(tmp_path, make_input, finder, encode_tfidf, settings_for)
    assert "<style>" in page and "<svg" in page
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", page, flags=re.I)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:|//|javascript:|data:)""", page,
                         flags=re.I)
    assert "@import" not in page and "url(" not in page
    for href in re.findall(r'href="([^"]*)"', page):
        assert href.startswith("#") or not re.match(r"^[a-z][a-z0-9+.-]*:", href), href


def test_navigation_headings_matrix_and_links(tmp_path, make_input, finder, encode_tfidf,
                                              settings_for):
    inp, result, page = _build(tmp_path, make_input, finder, encode_tfidf, settings_for)
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    for area in AREAS:
        assert f'id="area-{area.key}"' in page
        assert f'href="#area-{area.key}"' in page
        assert area.heading.replace("'", "&#39;") in page
    # every internal link resolves
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in ids, target
    # every group is on the page with its id and its support
    for g in result.grouping.groups:
        assert f'id="{g.group_id}"' in page
    # the role x challenge matrix and the per-challenge chart
    assert "stakeholder role × challenge area" in page
    assert page.count('<td class="v"') >= len(AREAS) * 7
    assert "<title>Paragraphs per challenge area</title>" in page
    # quarantine with its reason, contributor list with relative file links
    assert "broken/locked.pdf" in page and ">encrypted<" in page
    assert 'href="../in/northcert.pdf"' in page
    assert 'href="../in/hostile/%3Dcmd.docx"' in page


def test_file_links_are_relative_and_percent_encoded(tmp_path):
    from pipeline.report.html import file_links

    out = tmp_path / "out"
    assert file_links(tmp_path / "in", out)("a b/c#d.pdf") == "../in/a%20b/c%23d.pdf"
    assert file_links(out, out)("javascript:alert(1).pdf") == "javascript%3Aalert%281%29.pdf"
    assert file_links(None, out)("x.pdf") is None
    # the folders are resolved, the file names are not: a link names where a file lies
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    assert file_links(tmp_path / "linked", out)("a.pdf") == "../real/a.pdf"


def test_quote_lines_are_what_the_autoescaping_template_wrote():
    """A group's further quotes are written out by html.quote_items: byte for byte the loop
    of fragments.html.j2 they replace, rendered with autoescaping, hostile text included."""
    from jinja2 import Environment

    from pipeline.report.html import quote_items, quote_view

    loop = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
        '      {% for q in rest %}\n'
        '        <li id="{{ gid }}-{{ q.id }}"><q>{{ q.text }}</q> <span class="attr">— '
        '{{ q.who }}, <a href="#{{ q.anchor }}">{{ q.location }}</a></span></li>\n'
        '      {% endfor %}\n')
    quotes = [
        ("q-1", "p-1", "a <b>&amp; \"quoted\" 'file'.docx", "<script>alert(1)</script>", 2, 7,
         "Operators should <em>verify</em> & \"check\" 'identity' </q></li><li>.", "Org & Co"),
        ("q-2", "p-2", "plain.pdf", "Ana", None, 3, "=HYPERLINK(\"x\") and > <", None),
        ("q-3", "p-3", "é.docx", "Ana", 1, 1, "\u00a0non-breaking\ttab\nnewline", "Ana"),
    ]
    for gid in ("g-0123456789", 'g-"<&>'):
        expected = loop.render(gid=gid, rest=[quote_view(q) for q in quotes])
        assert str(quote_items(gid, quotes)) == expected
