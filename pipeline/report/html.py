"""report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs).

Rendered with Jinja2 with autoescaping ON for every value: contributor text can never become
markup. The only values marked safe are the SVG charts, built in charts.py from escaped text, a
quote's attribution, built by Markup.format (which escapes what it inserts), and the HTML of each
group and contribution, rendered by the autoescaping macros of fragments.html.j2 (or kept from
an earlier run by fragment_cache, under the hash of the same view).

The page's hundreds of thousands of quotes and cited paragraphs are named tuples rather than
dicts: Jinja looks `q.text` up as an attribute first, and on a dict that failed with an exception
each time (3,000 contributions: 1.8 million lookups).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote as urlquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline.report.areas import AREAS, ROLE_NAMES, role_name
from pipeline.report.charts import PALETTE, bar_chart, heat_colour, heat_text_colour
from pipeline.report.fragment_cache import Fragment, FragmentCache
from pipeline.report.grouping import GroupingResult, OptionGroup
from pipeline.report.model import ReportInput
from pipeline.report.quotes import Quote, QuoteBook, paragraph_matches_document
from pipeline.taxonomy_keys import STAKEHOLDER_KEYS

TEMPLATES = Path(__file__).parent / "templates"
ROLE_SHORT = {"government": "Govern\u00adment", "intergovernmental": "Inter\u00adgovern\u00admental",
              "private_sector": "Private sector", "civil_society": "Civil society",
              "technical_community": "Technical commu\u00adnity", "academia": "Academia",
              "users": "Users"}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["role_name"] = role_name
    env.filters["n"] = counted
    return env


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 paragraph', '3 paragraphs'."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def file_link(source_file: str, input_dir: Path | None, out_dir: Path) -> str | None:
    """Relative URL from the report to the submitted file (percent-encoded), if known."""
    if input_dir is None:
        return None
    target = Path(input_dir) / source_file
    rel = os.path.relpath(target.resolve(), Path(out_dir).resolve())
    return urlquote(rel.replace(os.sep, "/"), safe="/")


def _segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The paragraph split into (text, is_quoted) pieces, quoted spans merged."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out: list[tuple[str, bool]] = []
    pos = 0
    for s, e in merged:
        if s > pos:
            out.append((text[pos:s], False))
        out.append((text[s:e], True))
        pos = e
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def group_label(value: str | None) -> str | None:
    """A contributor's stakeholder group for display: role keys get their names."""
    if value is None:
        return None
    return ROLE_NAMES.get(value, value)


class QuoteView(NamedTuple):
    id: str
    text: str
    contributor: str
    organisation: str | None
    location: str
    anchor: str
    source_file: str
    page: int | None
    paragraph: int
    who: Markup


class CitedView(NamedTuple):
    anchor: str
    id: str
    location: str
    heading: str | None
    segments: list[tuple[str, bool]]
    confirmed: str | None
    groups: list[str]


@lru_cache(maxsize=65536)
def who_markup(contributor: str, organisation: str | None) -> Markup:
    """The attribution of a quote: the contributor and, when it differs, the organisation."""
    who = Markup('<span class="who">{}</span>').format(contributor)
    if organisation:
        who += Markup(' <span class="org">({})</span>').format(organisation)
    return who


def quote_view(q: Quote, organisation: str | None = None) -> QuoteView:
    org = organisation if organisation and organisation != q.contributor else None
    return QuoteView(id=q.quote_id, text=q.text, contributor=q.contributor, organisation=org,
                     location=q.location, anchor=f"src-{q.paragraph_id}",
                     source_file=q.source_file, page=q.page, paragraph=q.paragraph,
                     who=who_markup(q.contributor, org))


def group_view(g: OptionGroup) -> dict[str, Any]:
    org_of = {m.quote.quote_id: m.cp.para.organisation for m in g.members}
    return {
        "id": g.group_id, "challenge": g.challenge,
        "representative": quote_view(g.representative.quote,
                                     g.representative.cp.para.organisation),
        "support": g.support, "contributors": g.contributors,
        "stakeholder_groups": [group_label(x) for x in g.stakeholder_groups],
        "roles": [role_name(r) for r in g.roles],
        "confidence": g.confidence, "cohesion": g.cohesion,
        "confirmed": g.confirmed_count, "n_paragraphs": len(g.paragraph_ids),
        "merged_from": g.merged_from,
        "quotes": [quote_view(q, org_of.get(q.quote_id)) for q in g.quotes],
    }


def build_view(inp: ReportInput, grouping: GroupingResult, quotes: QuoteBook,
               out_dir: Path, title: str, meta: dict[str, Any]) -> dict[str, Any]:
    paragraphs = inp.paragraphs
    by_area = grouping.by_challenge()
    para_count: Counter[str] = Counter()
    option_count: Counter[str] = Counter()
    contributions_per_area: dict[str, set[str]] = defaultdict(set)
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for cp in paragraphs:
        for c in cp.challenges:
            para_count[c] += 1
            contributions_per_area[c].add(cp.para.source_file)
            if cp.is_policy_option:
                option_count[c] += 1
            for r in cp.stakeholders:
                matrix[c][r] += 1
    areas = []
    for a in AREAS:
        areas.append({
            "key": a.key, "marker": a.marker, "heading": a.heading, "title": a.title,
            "description": a.description, "is_cenb": a.is_cenb,
            "paragraphs": para_count[a.key], "options": option_count[a.key],
            "contributions": len(contributions_per_area[a.key]),
            "groups": [group_view(g) for g in by_area[a.key]],
        })
    vmax = max([n for row in matrix.values() for n in row.values()] + [0])
    matrix_rows = []
    for a in AREAS:
        cells = []
        for r in STAKEHOLDER_KEYS:
            v = matrix[a.key][r]
            cells.append({"value": v, "bg": heat_colour(v, vmax), "fg": heat_text_colour(v, vmax)})
        matrix_rows.append({"key": a.key, "label": a.heading, "cells": cells,
                            "total": para_count[a.key]})
    chart = bar_chart(
        [a.heading for a in AREAS],
        [("paragraphs labelled with the area", [para_count[a.key] for a in AREAS],
          PALETTE["secondary"]),
         ("of which propose a policy option", [option_count[a.key] for a in AREAS],
          PALETTE["primary"])],
        title="Paragraphs per challenge area", links=[f"#area-{a.key}" for a in AREAS])

    # sources: every paragraph a quote cites, per contribution, with the quoted spans marked
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    groups_of: dict[str, set[str]] = defaultdict(set)
    for g in grouping.groups:
        for m in g.members:
            spans[m.quote.paragraph_id].append((m.quote.para_start, m.quote.para_end))
            groups_of[m.quote.paragraph_id].add(g.group_id)
    per_file: Counter[str] = Counter(cp.para.source_file for cp in paragraphs)
    options_per_file: Counter[str] = Counter()
    for g in grouping.groups:
        for f in {m.quote.source_file for m in g.members}:
            options_per_file[f] += 1
    cited: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cp in sorted(paragraphs, key=lambda c: c.sort_key()):
        pid = cp.para.paragraph_id
        if pid not in spans:
            continue
        doc = inp.documents.get(cp.para.source_file)
        if not paragraph_matches_document(cp.para, doc):
            continue  # its quotes were dropped already; never show unverified text
        loc = (f"p. {cp.para.page}, " if cp.para.page is not None else "") + \
            f"¶ {cp.para.paragraph}"
        cited[cp.para.source_file].append(CitedView(
            anchor=f"src-{pid}", id=pid, location=loc, heading=cp.para.heading,
            segments=_segments(cp.para.text, spans[pid]),
            confirmed=cp.confirmed.summary if cp.confirmed is not None else None,
            groups=sorted(groups_of[pid])))
    contributions = []
    for name, doc in sorted(inp.documents.items(),
                            key=lambda kv: (kv[1].contributor.casefold(), kv[0])):
        contributions.append({
            "anchor": contribution_anchor(name), "contributor": doc.contributor,
            "organisation": doc.organisation,
            "stakeholder_group": group_label(doc.stakeholder_group),
            "source_file": name, "file_type": doc.file_type, "pages": doc.pages,
            "language": doc.language, "link": file_link(name, inp.input_dir, out_dir),
            "paragraphs": per_file[name], "options": options_per_file[name],
            "cited": cited.get(name, []),
        })
    quarantine = [{"source_file": q.source_file, "reason": q.reason, "detail": q.detail,
                   "link": file_link(q.source_file, inp.input_dir, out_dir)}
                  for q in sorted(inp.quarantine, key=lambda q: q.source_file)]
    n_quotes = sum(len(g.members) for g in grouping.groups)
    confirmed = sum(1 for cp in paragraphs if cp.confirmed is not None)
    return {
        "title": title, "meta": meta, "areas": areas,
        "cenb_areas": [a for a in areas if a["is_cenb"]],
        "extra_areas": [a for a in areas if not a["is_cenb"]],
        "chart": chart, "roles": [ROLE_NAMES[r] for r in STAKEHOLDER_KEYS],
        "role_short": [ROLE_SHORT[r] for r in STAKEHOLDER_KEYS],
        "matrix": matrix_rows, "matrix_max": vmax,
        "contributions": contributions, "quarantine": quarantine,
        "stats": {
            "files": len(inp.documents) + len(inp.quarantine),
            "contributions": len(inp.documents), "quarantined": len(inp.quarantine),
            "paragraphs": len(paragraphs),
            "option_paragraphs": sum(1 for cp in paragraphs if cp.is_policy_option),
            "groups": len(grouping.groups),
            "multi_groups": sum(1 for g in grouping.groups if g.support > 1),
            "quotes": n_quotes, "quotes_dropped": quotes.dropped_total,
            "confirmed": confirmed, "threshold": grouping.threshold,
        },
    }


def contribution_anchor(source_file: str) -> str:
    """The id of a contribution's block: from its file name, not its position, so that adding
    a contribution leaves the other blocks (and their cached HTML) as they were."""
    return "doc-" + hashlib.sha1(source_file.encode("utf-8")).hexdigest()[:10]


def attach_fragments(env: Environment, view: dict[str, Any],
                     cache: FragmentCache | None = None) -> None:
    """Give every group and contribution of the view its HTML ("html"): rendered by the macros
    of fragments.html.j2 when the page reaches it or, for a view rendered before, taken from the
    cache."""
    macros = env.get_template("fragments.html.j2").module
    for g in (g for a in view["areas"] for g in a["groups"]):
        g["html"] = Fragment(cache, "group", g, macros.group_body)
    for c in view["contributions"]:
        c["html"] = Fragment(cache, "contribution", c, macros.source_block)


def write_html(path: Path, view: dict[str, Any], fragments: FragmentCache | None = None) -> Path:
    """Streamed to disk in pieces: at 3,000 contributions the page is 100 MB, which as one
    string and its UTF-8 copy held 0.2 GB at once."""
    env = _env()
    attach_fragments(env, view, fragments)
    tmp = path.with_name(path.name + ".tmp")
    stream = env.get_template("report.html.j2").stream(**view)
    stream.enable_buffering(256)
    with tmp.open("w", encoding="utf-8") as fh:
        stream.dump(fh)
    if fragments is not None:
        fragments.flush()
    tmp.replace(path)
    return path
