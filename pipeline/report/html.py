"""report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs).

Rendered with Jinja2 with autoescaping ON for every value: contributor text can never become
markup. The only values marked safe are the SVG charts, built in charts.py from escaped text, a
quote's attribution, built by Markup.format (which escapes what it inserts), and the HTML of each
group and contribution, rendered by the autoescaping macros of fragments.html.j2 (or kept from
an earlier run by fragment_cache, under the hash of the same identity: the data the view is
built from, or of what a group's identity follows from: group_state). The page is written with
a marker in each of those places, which the writer replaces with the fragment's bytes: a
marker holds a token drawn for the page, so no submitted text can stand in for one.

The page's hundreds of thousands of quotes and cited paragraphs are named tuples rather than
dicts: Jinja looks `q.text` up as an attribute first, and on a dict that failed with an exception
each time (3,000 contributions: 1.8 million lookups).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections import Counter, defaultdict
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple
from urllib.parse import quote as urlquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from pipeline.report.areas import AREAS, ROLE_NAMES, role_name
from pipeline.report.charts import PALETTE, bar_chart, heat_colour, heat_text_colour
from pipeline.report.fragment_cache import Fragment, FragmentCache
from pipeline.report.grouping import (
    GroupingResult,
    OptionGroup,
    provenance_key,
    reviewer_labels,
)
from pipeline.report.model import ClassifiedParagraph, ReportInput
from pipeline.report.quotes import Quote, QuoteBook, location
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


def file_links(input_dir: Path | None, out_dir: Path) -> Callable[[str], str | None]:
    """source_file -> relative URL from the report to the submitted file (percent-encoded), or
    None when the input folder is not known. The two folders are resolved once (resolving each
    of 3,000 files took 0.5 s of a run); a link names a file where it lies in the input folder."""
    if input_dir is None:
        return lambda _source_file: None
    base, out = str(Path(input_dir).resolve()), str(Path(out_dir).resolve())

    def link(source_file: str) -> str | None:
        rel = os.path.relpath(os.path.join(base, source_file), out)
        return urlquote(rel.replace(os.sep, "/"), safe="/")

    return link


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


# A group's and a contribution's fragment is rendered from its "identity": plain data holding
# every input of its view (group_view / contribution_view build the view from that alone), so the
# fragment cache's key, the hash of the identity, determines the HTML by construction; and on a
# cache hit no view is built (178,000 quote views at 3,000 contributions).

# (quote id, paragraph id, file, contributor, page, paragraph number, text, organisation)
QuoteIdentity = tuple[str, str, str, str, int | None, int, str, str | None]
_QUOTE = attrgetter("quote")
_SPAN = attrgetter("quote.para_start", "quote.para_end")
_ORGANISATION = attrgetter("cp.para.organisation")


def quote_identity(q: Quote, organisation: str | None) -> QuoteIdentity:
    org = organisation if organisation and organisation != q.contributor else None
    return q[:7] + (org,)   # a Quote's first seven fields, as QuoteIdentity lists them


def quote_view(ident: QuoteIdentity) -> QuoteView:
    qid, pid, source_file, contributor, page, paragraph, text, org = ident
    return QuoteView(id=qid, text=text, contributor=contributor, organisation=org,
                     location=location(source_file, page, paragraph), anchor=f"src-{pid}",
                     source_file=source_file, page=page, paragraph=paragraph,
                     who=who_markup(contributor, org))


def group_identity(g: OptionGroup) -> dict[str, Any]:
    return {
        "id": g.group_id, "challenge": g.challenge, "support": g.support,
        "contributors": g.contributors,
        "stakeholder_groups": [group_label(x) for x in g.stakeholder_groups],
        "roles": [role_name(r) for r in g.roles],
        "confidence": g.confidence, "cohesion": g.cohesion,
        "confirmed": g.confirmed_count, "n_paragraphs": len(g.paragraph_ids),
        "merged_from": g.merged_from,
        "quotes": list(map(quote_identity, map(_QUOTE, g.ordered_members),
                           map(_ORGANISATION, g.ordered_members))),
    }


def group_state(g: OptionGroup, file_states: Mapping[str, str]) -> str | None:
    """What a group's fragment follows from when every contribution it quotes has a
    provenance state (ContributionMemo.states: everything made of the contribution, and all
    the code): those states, its members (paragraph and sentence) in order, its
    representative, its own numbers and merges, and its paragraphs' reviewer labels. None
    when a contribution has no state. Read by C-level maps: building the identity of 1,100
    groups' 178,000 quotes took 0.3 s of every run at 3,000 contributions, this 0.05 s."""
    rep = g.representative
    return provenance_key([g.group_id, g.challenge, g.cohesion, g.confidence, g.merged_from,
                           rep.key, rep.quote.para_start], g.files, g.members, file_states,
                          reviewer_labels(g.members) if g.confirmed_count else [])


def _quote_item(prefix: str, ident: QuoteIdentity) -> str:
    qid, pid, source_file, contributor, page, paragraph, text, org = ident
    return "".join((prefix, escape(qid), '"><q>', escape(text), '</q> <span class="attr">— ',
                    who_markup(contributor, org), ', <a href="#src-', escape(pid), '">',
                    escape(location(source_file, page, paragraph)), "</a></span></li>\n"))


def quote_items(group_id: str, quotes: Iterable[QuoteIdentity]) -> Markup:
    """The lines of a group's list of further quotes, every value escaped as Jinja's autoescape
    escapes it: the loop over them that fragments.html.j2 had, written out (8 spaces, the <li>,
    a newline). A group holds up to thousands of quotes, and Jinja and the quotes' views took
    three quarters of rendering one."""
    prefix = f'        <li id="{escape(group_id)}-'
    return Markup("".join(map(_quote_item, repeat(prefix), quotes)))


def group_view(ident: dict[str, Any]) -> dict[str, Any]:
    """What group_body shows: the representative wording (the first quote), and the other
    quotes as the lines of their list."""
    quotes = ident["quotes"]
    return {**ident, "representative": quote_view(quotes[0]), "n_rest": len(quotes) - 1,
            "rest_html": quote_items(ident["id"], quotes[1:])}


def contribution_view(ident: dict[str, Any]) -> dict[str, Any]:
    """What source_block shows: each cited paragraph with its quoted spans marked."""
    cited = [CitedView(anchor=f"src-{pid}", id=pid,
                       location=(f"p. {page}, " if page is not None else "") + f"¶ {paragraph}",
                       heading=heading, segments=_segments(text, spans), confirmed=confirmed,
                       groups=groups)
             for pid, page, paragraph, heading, text, spans, confirmed, groups in ident["cited"]]
    return {**ident, "cited": cited}


def _group_entry(g: OptionGroup, states: Mapping[str, str]) -> dict[str, Any]:
    """A group of the view: its fragment keyed by its state where it has one (its identity is
    then built only if the fragment must be rendered), else by its identity."""
    state = group_state(g, states) if states else None
    return {"id": g.group_id, "group": g, "state": state,
            "identity": group_identity(g) if state is None else None}


def build_view(inp: ReportInput, grouping: GroupingResult, quotes: QuoteBook,
               out_dir: Path, title: str, meta: dict[str, Any]) -> dict[str, Any]:
    paragraphs = inp.paragraphs
    states = inp.file_states or {}
    by_area = grouping.by_challenge()
    para_count: Counter[str] = Counter()
    option_count: Counter[str] = Counter()
    contributions_per_area: dict[str, set[str]] = defaultdict(set)
    matrix: dict[str, Counter[str]] = defaultdict(Counter)
    for cp in paragraphs:
        labels = cp.challenge_labels
        if not labels:
            continue
        is_option, roles = cp.is_policy_option, cp.stakeholder_labels
        for c in labels:
            para_count[c] += 1
            contributions_per_area[c].add(cp.para.source_file)
            if is_option:
                option_count[c] += 1
            for r in roles:
                matrix[c][r] += 1
    areas = []
    for a in AREAS:
        areas.append({
            "key": a.key, "marker": a.marker, "heading": a.heading, "title": a.title,
            "description": a.description, "is_cenb": a.is_cenb,
            "paragraphs": para_count[a.key], "options": option_count[a.key],
            "contributions": len(contributions_per_area[a.key]),
            "groups": [_group_entry(g, states) for g in by_area[a.key]],
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
    # and the groups citing it (C-level maps over each paragraph's candidates: 178,000 at 3,000)
    group_of = grouping.candidate_group
    spans = {pid: sorted(map(_SPAN, cands)) for pid, cands in grouping.by_paragraph.items()}
    groups_of = {pid: sorted(set(map(group_of.__getitem__, map(id, cands))))
                 for pid, cands in grouping.by_paragraph.items()}
    per_file: Counter[str] = Counter(cp.para.source_file for cp in paragraphs)
    options_per_file: Counter[str] = Counter()
    for g in grouping.groups:
        options_per_file.update(g.files)
    cited: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for cp in sorted(paragraphs, key=ClassifiedParagraph.sort_key):
        p = cp.para
        pid = p.paragraph_id
        if pid not in spans:
            continue
        # a paragraph with a quote matched its document when the quote was made (QuoteBook):
        # one that did not had all its quotes dropped, so unverified text is never shown
        cited[p.source_file].append((
            pid, p.page, p.paragraph, p.heading, p.text, spans[pid],
            cp.confirmed.summary if cp.confirmed is not None else None, groups_of[pid]))
    link = file_links(inp.input_dir, out_dir)
    contributions = []
    for name, doc in sorted(inp.documents.items(),
                            key=lambda kv: (kv[1].contributor.casefold(), kv[0])):
        contributions.append({
            "anchor": contribution_anchor(name), "contributor": doc.contributor,
            "organisation": doc.organisation,
            "stakeholder_group": group_label(doc.stakeholder_group),
            "source_file": name, "file_type": doc.file_type, "pages": doc.pages,
            "language": doc.language, "link": link(name),
            "paragraphs": per_file[name], "options": options_per_file[name],
        })
        contributions[-1]["identity"] = {**contributions[-1], "cited": cited.get(name, [])}
    quarantine = [{"source_file": q.source_file, "reason": q.reason, "detail": q.detail,
                   "link": link(q.source_file)}
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


def attach_fragments(env: Environment, view: dict[str, Any], marker: Callable[[int], str],
                     cache: FragmentCache | None = None) -> list[Fragment]:
    """Give every group and contribution of the view its HTML ("html"): rendered by the macros
    of fragments.html.j2 when the page reaches it or, for a view rendered before, taken from the
    cache. In the page, the i-th fragment stands as marker(i); returns them in that order."""
    macros = env.get_template("fragments.html.j2").module

    def group_body(ident: dict[str, Any]) -> str:
        return macros.group_body(group_view(ident))

    def source_block(ident: dict[str, Any]) -> str:
        return macros.source_block(contribution_view(ident))

    out: list[Fragment] = []
    for g in (g for a in view["areas"] for g in a["groups"]):
        if g["state"] is not None:
            g["html"] = Fragment(cache, "group-state", {"state": g["state"]},
                                 lambda group=g["group"]: group_body(group_identity(group)),
                                 marker(len(out)))
        else:
            g["html"] = Fragment(cache, "group", g["identity"],
                                 lambda ident=g["identity"]: group_body(ident), marker(len(out)))
        out.append(g["html"])
    for c in view["contributions"]:
        c["html"] = Fragment(cache, "contribution", c["identity"],
                             lambda ident=c["identity"]: source_block(ident), marker(len(out)))
        out.append(c["html"])
    return out


def write_html(path: Path, view: dict[str, Any], fragments: FragmentCache | None = None) -> Path:
    """Streamed to disk in pieces: at 3,000 contributions the page is 100 MB, which as one
    string and its UTF-8 copy held 0.2 GB at once. The template is rendered with a marker in
    each group's and contribution's place (NUL, a token drawn for this page, the fragment's
    number, NUL: no submission can guess the token), and the writer puts each fragment's UTF-8
    bytes there, as stored."""
    env = _env()
    token = secrets.token_hex(16)
    pieces = attach_fragments(env, view, lambda i: f"\x00{token}:{i}\x00", fragments)
    marker = re.compile(f"\x00{token}:(\\d+)\x00")
    tmp = path.with_name(path.name + ".tmp")
    stream = env.get_template("report.html.j2").stream(**view)
    stream.enable_buffering(256)
    with tmp.open("wb") as fh:
        for text in stream:
            pos = 0
            for found in marker.finditer(text):
                fh.write(text[pos:found.start()].encode("utf-8"))
                fh.write(pieces[int(found.group(1))].utf8())
                pos = found.end()
            fh.write(text[pos:].encode("utf-8"))
    if fragments is not None:
        fragments.flush()
    tmp.replace(path)
    return path
