"""Who sent a file: manifest validation and lookup, then what the document says, then its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract.contributor import (
    ManifestError,
    contributor_from_filename,
    contributor_from_statement,
    find_manifest,
    infer_contributor,
    load_manifest,
    plausible_author,
)
from pipeline.extract.model import Block, RawDocument

HEADER = "file,contributor,organisation,stakeholder_group,language\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_manifest_rows_are_normalised(tmp_path: Path):
    entries = load_manifest(write(tmp_path / "m.csv", HEADER
                                  + "./sub\\a.docx,Jane Doe,Acme Ltd,company,EN-gb\n"
                                  + "b.pdf,Ministry of ICT,,,\n\n"))
    assert entries["sub/a.docx"].stakeholder_group == "private_sector"
    assert entries["sub/a.docx"].language == "en"
    assert entries["sub/a.docx"].organisation == "Acme Ltd"
    assert entries["b.pdf"].organisation is None and entries["b.pdf"].stakeholder_group is None


@pytest.mark.parametrize("body, message", [
    ("a.pdf,,Org,,\n", "row 2 (file 'a.pdf'): the 'contributor' cell is empty"),
    (",Jane,,,\n", "row 2: the 'file' cell is empty"),
    ("a.pdf,Jane,,aliens,\n", "row 2 (file 'a.pdf'): stakeholder_group 'aliens'"),
    ("a.pdf,Jane,,,english language\n", "row 2 (file 'a.pdf'): language 'english language'"),
    ("a.pdf,Jane,,,\nb.pdf,Ann,,,\na.pdf,Bob,,,\n", "row 4: file 'a.pdf' is listed twice (also "
                                                    "on row 2)"),
    ("../a.pdf,Jane,,,\n", "must be a path relative to the input folder"),
])
def test_bad_manifest_rows_are_named(tmp_path: Path, body, message):
    with pytest.raises(ManifestError) as err:
        load_manifest(write(tmp_path / "m.csv", HEADER + body))
    assert message in str(err.value)
    assert str(tmp_path / "m.csv") in str(err.value)


def test_bad_manifest_columns(tmp_path: Path):
    with pytest.raises(ManifestError, match="unknown column 'email'"):
        load_manifest(write(tmp_path / "m.csv", "file,contributor,email\na.pdf,Jane,j@x.org\n"))
    with pytest.raises(ManifestError, match="lacks the column"):
        load_manifest(write(tmp_path / "m.csv", "file,organisation\na.pdf,Acme\n"))
    assert load_manifest(write(tmp_path / "m.csv", "File,Contributor,Organization\na,J,O\n"))


def test_manifest_lookup_order(tmp_path: Path):
    corpus, raw = tmp_path / "corpus", tmp_path / "corpus" / "raw"
    raw.mkdir(parents=True)
    assert find_manifest(raw, None) is None
    outer = write(corpus / "manifest.csv", HEADER)
    assert find_manifest(raw, None) == outer
    inner = write(raw / "manifest.csv", HEADER)
    assert find_manifest(raw, None) == inner
    given = write(tmp_path / "other.csv", HEADER)
    assert find_manifest(raw, given) == given
    with pytest.raises(ManifestError, match="does not exist"):
        find_manifest(raw, tmp_path / "missing.csv")


@pytest.mark.parametrize("line, who", [
    ("Submitted by: Kenya ICT Action Network (KICTANet)", "Kenya ICT Action Network (KICTANet)"),
    ("Contribution of the Government of Ruritania to the IGF Best Practice Forum on Cybersecurity",
     "Government of Ruritania"),
    ("Contributor – Digital Rights Foundation", "Digital Rights Foundation"),
    ("Contribución de la Asociación Digital de Chile al Foro", "Asociación Digital de Chile"),
    ("Soumis par : Réseau des CERT d'Afrique", "Réseau des CERT d'Afrique"),
    ("Contribution to the IGF BPF 2017 Submitted by: Nomvula Pereira, SafeHer Online Network",
     "Nomvula Pereira, SafeHer Online Network"),     # title-page lines joined into one block
    ("Contribution from Marisol Quenta, individual", "Marisol Quenta"),
])
def test_statements(line, who):
    assert contributor_from_statement(["Some title", line]) == who


def test_no_statement_in_ordinary_prose():
    assert contributor_from_statement(["Governments should contribute to CERT funding.",
                                       "The contribution of the private sector to security is "
                                       "essential in every market we studied."]) is None


def test_inference_order():
    doc = RawDocument(file_type="docx", blocks=[Block(text="Ministry of ICT, Republic of Ruritania"),
                                                Block(text="We welcome the call.")],
                      author="Jane Doe")
    assert infer_contributor(doc, "x.docx") == ("Ministry of ICT, Republic of Ruritania",
                                                "title_page")
    doc.blocks[0] = Block(text="Our views")
    assert infer_contributor(doc, "x.docx") == ("Jane Doe", "author_property")
    doc.author = "Microsoft Office User"
    assert infer_contributor(doc, "uploads/07_fair-net_alliance.docx") == (
        "Fair Net Alliance", "file_name")


def test_author_plausibility_and_file_names():
    for generic in ("Microsoft Office User", "user", "python-docx", "Administrator", "",
                    "LibreOffice"):
        assert plausible_author(generic) is None
    assert plausible_author("Arvid Kallas") == "Arvid Kallas"
    assert contributor_from_filename("2017-bpf-NuCERT.pdf") == "NuCERT"
    assert contributor_from_filename("03_ministry_of_ict.docx") == "Ministry Of Ict"
    assert contributor_from_filename("up/2017-bpf-ministry-of-ict_kenya-final-v2.pdf") == \
        "Ministry Of Ict Kenya"
    assert contributor_from_filename("Fair and Safe.docx") == "Fair and Safe"
