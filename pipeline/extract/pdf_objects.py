"""pdfplumber's page objects, with characters converted without its per-attribute walk.

pdfplumber turns every pdfminer LTChar into a dict by resolving each of its attributes
recursively (`Page.process_object`): on the benchmark's text PDFs that conversion took about
half of all PDF extraction time, more than pdfminer's own reading of the content stream.
A character's attributes are plain numbers, strings and tuples, so the same dict can be built
directly. Everything else on the page (lines, rects, curves, images, which tables are found
from) still goes through pdfplumber's own conversion, and the result is stored where
pdfplumber caches a page's objects, so `chars`, `filter`, `extract_words` and `find_tables`
work unchanged. tests/extract/test_pdf_objects.py checks the dicts equal pdfplumber's, key
for key, so a pdfplumber upgrade that changes them fails the tests instead of the output.
"""

from __future__ import annotations

from typing import Any
from unicodedata import normalize

from pdfminer.layout import LTChar, LTContainer
from pdfplumber.utils import resolve_and_decode

_OPTIONAL_INT = (int, type(None))
_OPTIONAL_STR = (str, type(None))


def _char(page: Any, obj: LTChar, mb_x0: float, mb_top: float, norm: str | None,
          spaces: dict[Any, Any]) -> dict | None:
    """The dict pdfplumber makes of a character; None when an attribute needs pdfplumber's
    general conversion (an indirect object, a byte-string font name).

    Of a character's attributes pdfplumber resolves the font name, marked-content id and tag
    (the PDF can make those indirect); the matrix and box are numbers pdfminer computed, and
    the colours are copied as they are by pdfplumber too.
    """
    gs = obj.graphicstate
    scolor = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
    ncolor = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
    fontname = obj.fontname
    space = getattr(getattr(obj, "ncs", None), "name", None)
    if not isinstance(space, (str, bytes)):
        return None
    if space not in spaces:   # a handful per document, decoded the way pdfplumber does
        spaces[space] = resolve_and_decode(space)
    if not (type(fontname) is str and isinstance(obj.mcid, _OPTIONAL_INT)
            and isinstance(obj.tag, _OPTIONAL_STR)):
        return None
    text = obj.get_text()
    y0, y1 = obj.y0, obj.y1
    top = (page.height - y1) + mb_top
    return {
        "matrix": obj.matrix, "fontname": fontname, "adv": obj.adv, "upright": obj.upright,
        "x0": obj.x0 + mb_x0 if mb_x0 else obj.x0, "y0": y0,
        "x1": obj.x1 + mb_x0 if mb_x0 else obj.x1, "y1": y1,
        "width": obj.width, "height": obj.height, "size": obj.size,
        "mcid": obj.mcid, "tag": obj.tag, "object_type": "char",
        "page_number": page.page_number, "ncs": spaces[space],
        "text": normalize(norm, text) if norm is not None else text,
        "stroking_color": scolor, "non_stroking_color": ncolor,
        "top": top, "bottom": (page.height - y0) + mb_top, "doctop": page.initial_doctop + top,
    }


def load_objects(page: Any) -> dict[str, list[dict]]:
    """Fill pdfplumber's object cache of `page` (its `objects`), converting characters fast."""
    if hasattr(page, "_objects"):
        return page._objects
    if page.pdf.laparams is not None:   # layout analysis adds text containers: pdfplumber's way
        return page.objects
    mb_x0, mb_top = page.mediabox[:2]
    norm = page.pdf.unicode_norm
    objects: dict[str, list[dict]] = {}
    spaces: dict[Any, Any] = {}

    def walk(items: list) -> None:
        for obj in items:
            if isinstance(obj, LTContainer):
                walk(obj._objs)
                continue
            attr = _char(page, obj, mb_x0, mb_top, norm, spaces) if isinstance(obj, LTChar) else None
            if attr is None:
                attr = page.process_object(obj)
            kind = attr["object_type"]
            if kind != "anno":
                objects.setdefault(kind, []).append(attr)

    walk(page.layout._objs)
    page._objects = objects
    return objects
