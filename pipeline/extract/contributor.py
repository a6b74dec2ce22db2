"""Who sent a file: the manifest first, else what the document says, else its file name.

The manifest is a CSV with columns file, contributor, organisation, stakeholder_group, language
(`file` relative to the input folder; only file and contributor are required). It is read and
validated here; a bad row is an error that names the row. Contributor information is applied
after the extraction cache, so editing the manifest never forces a re-extraction.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import InputFormatError
from pipeline.extract.clean import clean_text
from pipeline.extract.model import RawDocument
from pipeline.taxonomy_keys import STAKEHOLDER_KEYS

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "contributor", "organisation", "stakeholder_group", "language")
_REQUIRED = ("file", "contributor")
_COLUMN_ALIASES = {"organization": "organisation", "stakeholder group": "stakeholder_group",
                   "stakeholder": "stakeholder_group", "group": "stakeholder_group",
                   "lang": "language", "filename": "file", "path": "file"}

# The contributor's own stakeholder group, in the keys of CONTRACTS.md, with the everyday words
# a secretariat writes in a spreadsheet.
_GROUP_ALIASES = {
    "government": "government", "governments": "government", "gov": "government",
    "public sector": "government", "ministry": "government", "regulator": "government",
    "intergovernmental": "intergovernmental", "igo": "intergovernmental",
    "international organisation": "intergovernmental",
    "international organization": "intergovernmental",
    "private_sector": "private_sector", "private sector": "private_sector",
    "company": "private_sector", "business": "private_sector", "industry": "private_sector",
    "civil_society": "civil_society", "civil society": "civil_society", "ngo": "civil_society",
    "technical_community": "technical_community", "technical community": "technical_community",
    "technical body": "technical_community", "technical": "technical_community",
    "academia": "academia", "academic": "academia", "university": "academia",
    "research": "academia",
    "users": "users", "user": "users", "individual": "users", "individuals": "users",
}
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?$", re.IGNORECASE)


class ManifestError(InputFormatError):
    """The contributor manifest is malformed; the message names the row and the problem."""


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    contributor: str
    organisation: str | None = None
    stakeholder_group: str | None = None
    language: str | None = None


def find_manifest(input_dir: Path, manifest: Path | None) -> Path | None:
    """The manifest to use: the one given, else INPUT_DIR/manifest.csv, else
    INPUT_DIR/../manifest.csv (corpus/manifest.csv for corpus/raw), else none."""
    if manifest is not None:
        if not Path(manifest).is_file():
            raise ManifestError(f"Manifest {manifest} does not exist.")
        return Path(manifest)
    for candidate in (input_dir / MANIFEST_NAME, input_dir.parent / MANIFEST_NAME):
        if candidate.is_file():
            return candidate
    return None


def normalise_relpath(value: str) -> str:
    return str(PurePosixPath(value.strip().replace("\\", "/"))).removeprefix("./")


def load_manifest(path: Path) -> dict[str, ManifestEntry]:
    """Read and validate a manifest; keys are '/'-separated paths relative to the input folder."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError(f"Manifest {path} is not UTF-8 text; save it as 'CSV UTF-8'.") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise ManifestError(f"Manifest {path} is empty; it needs a header row with the columns "
                            f"{', '.join(MANIFEST_COLUMNS)}.")
    columns: dict[str, str] = {}
    for raw in reader.fieldnames:
        name = (raw or "").strip().lower()
        name = _COLUMN_ALIASES.get(name, name)
        if name not in MANIFEST_COLUMNS:
            raise ManifestError(
                f"Manifest {path} has an unknown column '{raw}'; the columns are "
                f"{', '.join(MANIFEST_COLUMNS)}.")
        columns[raw] = name
    missing = [c for c in _REQUIRED if c not in columns.values()]
    if missing:
        raise ManifestError(f"Manifest {path} lacks the column(s) {', '.join(missing)}.")

    entries: dict[str, ManifestEntry] = {}
    rows_of: dict[str, int] = {}
    for line_no, row in enumerate(reader, start=2):
        values = {columns[k]: (v or "").strip() for k, v in row.items() if k in columns}
        if not any(values.values()):
            continue  # a blank line
        where = f"Manifest {path}, row {line_no}"
        file = normalise_relpath(values.get("file", ""))
        if not values.get("file"):
            raise ManifestError(f"{where}: the 'file' cell is empty.")
        if file.startswith("/") or ".." in PurePosixPath(file).parts:
            raise ManifestError(f"{where}: file '{values['file']}' must be a path relative to the "
                                "input folder, without '..'.")
        contributor = clean_text(values.get("contributor", ""))
        if not contributor:
            raise ManifestError(f"{where} (file '{file}'): the 'contributor' cell is empty.")
        group = values.get("stakeholder_group") or None
        if group is not None:
            key = _GROUP_ALIASES.get(" ".join(group.lower().replace("-", " ").split()))
            if key is None:
                raise ManifestError(
                    f"{where} (file '{file}'): stakeholder_group '{group}' is not one of "
                    f"{', '.join(STAKEHOLDER_KEYS)} (or company, NGO, university, individual, "
                    "technical body...).")
            group = key
        language = values.get("language") or None
        if language is not None:
            if not _LANGUAGE_RE.match(language):
                raise ManifestError(f"{where} (file '{file}'): language '{language}' is not a "
                                    "language code such as en, fr or es.")
            language = re.split(r"[-_]", language.lower())[0]
        if file in entries:
            raise ManifestError(f"{where}: file '{file}' is listed twice (also on row "
                                f"{rows_of[file]}).")
        entries[file] = ManifestEntry(
            file=file, contributor=contributor,
            organisation=clean_text(values.get("organisation", "")) or None,
            stakeholder_group=group, language=language,
        )
        rows_of[file] = line_no
    return entries


# -- from the document ------------------------------------------------------------------------
_STATEMENT_RES = [
    re.compile(r"^(?:submitted|prepared|written|sent)\s+by\s*[:\-–—]?\s*(?P<who>.+)$", re.I),
    re.compile(r"^(?:soumis|présenté|presentado|enviado|preparado|préparé)e?\s+(?:par|por)\s*"
               r"[:\-–—]?\s*(?P<who>.+)$", re.I),
    re.compile(r"^(?:contributor|contributing organi[sz]ation|submitter|author|organi[sz]ation|"
               r"name of (?:the )?(?:organi[sz]ation|contributor)|contribuyente|contributeur)"
               r"\s*[:\-–—]\s*(?P<who>.+)$", re.I),
    re.compile(r"^(?:a\s+)?(?:joint\s+)?(?:contribution|submission|comments|input|response)s?\s+"
               r"(?:of|from|by)\s+(?:the\s+)?(?P<who>.+?)"
               r"(?:\s+(?:to|on|for|in response to|regarding)\s+(?:the\s+)?(?:igf|bpf|best practice|"
               r"call|internet governance|cybersecurity|consultation)\b.*)?$", re.I),
    re.compile(r"^(?:contribution|contribución|contribuição|aporte)\s+(?:de la|de l'|du|des|del|"
               r"de|da|do)\s+(?P<who>.+?)(?:\s+(?:au|à la|al|a la|para|pour)\s+.*)?$", re.I),
]
_ORG_WORDS = re.compile(
    r"\b(ministry|ministère|ministerio|department|government|gouvernement|gobierno|agency|"
    r"authority|autorité|commission|council|association|asociación|institute|institut|instituto|"
    r"university|université|universidad|foundation|fondation|fundación|society|network|coalition|"
    r"centre|center|centro|federation|initiative|alliance|organisation|organization|"
    r"union|cert|csirt|inc|ltd|llc|gmbh|s\.a\.|corporation|company|group|trust|secretariat|"
    r"office|bureau|chamber|consortium|ngo)\b", re.I)
# Lines about the call itself, not about who answers it.
_ABOUT_THE_CALL = re.compile(r"^(contribution|submission|response|comments|input|call)\b|best practice "
                             r"forum|\bbpf\b|\bigf\b|table of contents", re.I)
_GENERIC_AUTHORS = {
    "user", "admin", "administrator", "author", "owner", "unknown", "windows user", "default",
    "microsoft office user", "office user", "python-docx", "docx4j", "apache poi", "guest",
    "utilisateur", "usuario", "benutzer", "test", "pc", "home", "staff", "secretariat",
}
_SOFTWARE = re.compile(r"microsoft|office|python|apache|libreoffice|openoffice|acrobat|adobe|"
                       r"pdf|latex|tex\b|aspose|writer|word\b|google|pages\b", re.I)


_PERSONAL_CAPACITY_RE = re.compile(
    r",?\s*\(?(?:an?\s+)?(?:individual(?: contributor| submission)?|in (?:a|my|his|her|their) "
    r"personal capacity|personal capacity)\)?\s*$", re.I)


def _clean_candidate(value: str) -> str | None:
    value = clean_text(value).strip(" .,;:-–—*\"'“”")
    value = _PERSONAL_CAPACITY_RE.sub("", value).strip(" .,;:-–—")
    if not (2 <= len(value) <= 120) or not any(ch.isalpha() for ch in value):
        return None
    if len(value.split()) > 14:
        return None
    return value


# "Submitted by: ..." inside a short block (a title page whose lines were joined).
_INNER_STATEMENT_RE = re.compile(
    r"(?:^|\s)(?:submitted|prepared|sent)\s+by\s*[:\-–—]\s*(?P<who>[^.;\n]+)$", re.I)


def contributor_from_statement(lines: list[str]) -> str | None:
    for line in lines:
        text = clean_text(line)
        if not text or len(text) > 200:
            continue
        for pattern in _STATEMENT_RES:
            m = pattern.match(text)
            if m:
                who = _clean_candidate(m.group("who"))
                if who:
                    return who
        m = _INNER_STATEMENT_RE.search(text)
        if m:
            who = _clean_candidate(m.group("who"))
            if who:
                return who
    return None


_NOT_A_NAME_RE = re.compile(r"\||https?:|www\.|@|\d{3,}")
_TRAILING_DATE_RE = re.compile(
    r"[,\s]+(?:\d{1,2}\s+)?(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december)\b.*$", re.I)


def contributor_from_title_page(lines: list[str]) -> str | None:
    """A short line near the top that names an organisation ("Ministry of ...", "... Network"),
    not a table row, an address, a link or OCR debris."""
    for line in lines:
        text = _TRAILING_DATE_RE.sub("", clean_text(line))
        letters = sum(ch.isalpha() or ch.isspace() for ch in text)
        if 3 <= len(text) <= 100 and len(text.split()) <= 10 and not text.endswith((".", "?")) \
                and _ORG_WORDS.search(text) and not _ABOUT_THE_CALL.search(text) \
                and not _NOT_A_NAME_RE.search(text) and letters >= 0.85 * len(text):
            return _clean_candidate(text)
    return None


def plausible_author(value: str | None) -> str | None:
    """A file's author property when it looks like a person or body, not software or a default."""
    if not value:
        return None
    text = _clean_candidate(value)
    if text is None or text.lower() in _GENERIC_AUTHORS or _SOFTWARE.search(text):
        return None
    if len(text) < 3 or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    return text


_FILENAME_NOISE = {"bpf", "igf", "cenb", "contribution", "contributions", "submission", "input",
                   "response", "comments", "final", "draft", "copy", "cybersecurity", "en", "fr",
                   "es", "and", "to", "the", "for"}
_FILENAME_NOISE_RE = re.compile(r"^(?:\d+|v\d+|(?:19|20)\d\d)$")


def contributor_from_filename(rel_path: str) -> str:
    """'uploads/2017-bpf-ministry-of-ict_kenya-final.pdf' -> 'Ministry Of Ict Kenya': the stem
    without numbering, years, versions and words about the call itself."""
    stem = PurePosixPath(rel_path).stem
    words = [w for w in re.split(r"[\s_\-.]+", stem) if w]
    kept = [w for w in words
            if w.lower() not in _FILENAME_NOISE and not _FILENAME_NOISE_RE.match(w.lower())]
    # keep inner function words ("ministry of ict") once the noise at the ends is gone
    while kept and kept[0].lower() in ("of", "and", "to", "the", "for"):
        kept.pop(0)
    if kept:
        first, last = words.index(kept[0]), len(words) - 1 - words[::-1].index(kept[-1])
        kept = [w for w in words[first:last + 1]
                if not _FILENAME_NOISE_RE.match(w.lower()) and w.lower() not in
                _FILENAME_NOISE - {"and", "to", "the", "for", "en", "es"}]
    text = " ".join(kept or words) or PurePosixPath(rel_path).name
    return text.title() if text == text.lower() else text


def infer_contributor(raw: RawDocument, rel_path: str) -> tuple[str, str]:
    """(contributor, how) from the document, else from the file name. `how` is one of
    'statement', 'title_page', 'author_property', 'file_name'."""
    top = [b.text for b in raw.blocks[:15] if b.kind != "table"]
    first = [raw.title or ""] + raw.headings[:5] + top
    who = contributor_from_statement(first)
    if who:
        return who, "statement"
    first_page = [b.text for b in raw.blocks[:6] if b.page in (None, 1) and b.kind != "table"] \
        + raw.headings[:3]
    who = contributor_from_title_page([raw.title or ""] + first_page)
    if who:
        return who, "title_page"
    who = plausible_author(raw.author)
    if who:
        return who, "author_property"
    return contributor_from_filename(rel_path), "file_name"
