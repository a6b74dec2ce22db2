"""Generate a scale corpus of synthetic contributions (.docx and .pdf) for the benchmark.

Text is assembled from sentence pools with a seeded RNG, so paragraphs are varied (few exact
repeats: the embedding cache must not make the benchmark trivially cheap) and the corpus is
reproducible. Written outside git (under .cache/bench by default).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ACTORS = [
    "Governments", "National regulators", "Ministries of ICT", "Mobile network operators",
    "Internet service providers", "Device manufacturers", "Software vendors", "Banks",
    "Civil society organisations", "Consumer associations", "National CERTs",
    "Regional Internet registries", "Internet exchange point operators", "Universities",
    "Research centres", "Users", "Parents and educators", "Regional organisations",
    "City administrations", "Hospital IT departments", "Platform companies",
]
MODALS = ["should", "must", "are encouraged to", "need to", "ought to", "are expected to"]
ACTIONS = {
    "reliability_access": [
        "deploy source address validation to curb amplification attacks",
        "share DDoS mitigation capacity through regional scrubbing arrangements",
        "publish outage statistics so that resilience can be measured over time",
        "build redundant upstream links for rural access networks",
    ],
    "mobile": [
        "require strong checks before a SIM card is swapped",
        "vet the applications distributed through local app stores",
        "secure the signalling links that mobile money depends on",
        "offer security updates for low-cost handsets for at least four years",
    ],
    "abuse_by_authorities": [
        "subject interception powers to independent judicial oversight",
        "publish transparency reports on requests for user data",
        "refrain from mandating weaknesses in encryption",
        "limit data retention to what is necessary and proportionate",
    ],
    "sensitive_information": [
        "encrypt patient records at rest and in transit",
        "notify patients promptly when their health data is breached",
        "keep offline backups of clinical systems to survive ransomware",
        "restrict access to biometric identity databases on a need-to-know basis",
    ],
    "online_abuse_gbv": [
        "provide fast reporting channels for victims of online harassment",
        "train police officers to handle complaints of image-based abuse",
        "fund helplines that support survivors of technology-facilitated violence",
        "design moderation policies together with women's rights groups",
    ],
    "shared_critical_services": [
        "sign their zones with DNSSEC and validate responses",
        "create route origin authorisations in the RPKI",
        "join routing security initiatives such as MANRS",
        "protect cable landing stations and exchange points as shared infrastructure",
    ],
    "industrial_control_systems": [
        "segment control networks from corporate IT",
        "replace unsupported programmable logic controllers",
        "run joint exercises with water and energy utilities",
        "monitor industrial protocols for anomalous commands",
    ],
    "data_repurposing": [
        "apply purpose limitation to smart meter readings",
        "test anonymised datasets against re-identification before release",
        "obtain fresh consent before location data is reused",
        "audit the data brokers that buy telemetry from connected devices",
    ],
    "secure_development": [
        "adopt a secure development lifecycle with threat modelling",
        "run coordinated vulnerability disclosure programmes",
        "ship devices without universal default passwords",
        "require security testing in public procurement of software",
    ],
    "unauthorized_device_access": [
        "change default credentials on home routers and cameras",
        "receive automatic security updates for connected home devices",
        "detect stalkerware installed on a partner's phone",
        "lock vehicles' remote access interfaces behind strong authentication",
    ],
    "awareness_capacity": [
        "run national cyber hygiene campaigns in local languages",
        "train judges and prosecutors on electronic evidence",
        "build incident response capacity in least developed countries",
        "include cybersecurity in school curricula",
    ],
    "cyber_resilient_cities": [
        "appoint a security officer for municipal smart-city platforms",
        "test the resilience of traffic control and public transport systems",
        "share threat information between city administrations",
        "prepare continuity plans for city services hit by ransomware",
    ],
    "diversity": [
        "offer scholarships that bring more women into security careers",
        "set up mentoring networks for young women in cybersecurity",
        "ensure gender balance on expert panels and in policy forums",
        "recruit security staff from under-represented communities",
    ],
    "cryptocurrency": [
        "apply anti-money-laundering rules to cryptocurrency exchanges",
        "trace ransomware payments made in cryptocurrencies",
        "warn investors about fraudulent coin offerings",
        "detect cryptojacking scripts on public websites",
    ],
    "social_media": [
        "take down networks of fake accounts that spread disinformation",
        "protect users' accounts on social networks with two-factor login",
        "study how manipulation campaigns exploit social platforms",
        "label coordinated inauthentic behaviour during elections",
    ],
    "whistleblowers": [
        "protect whistleblowers who disclose security failures in good faith",
        "establish safe channels for reporting breaches inside organisations",
        "shield security researchers from legal threats when they report flaws",
        "guarantee that sources of journalists remain confidential",
    ],
}
PROBLEMS = [
    "In our region, {x} remains a serious concern for small businesses and households.",
    "Recent incidents involving {x} disrupted services that many people rely on every day.",
    "Our members report that {x} is poorly understood outside specialist circles.",
    "The lack of attention to {x} undermines trust in digital services and slows adoption.",
    "Evidence collected in {year} shows that {x} affects developing economies disproportionately.",
]
TOPICS = {
    "reliability_access": "denial of service against local hosting providers",
    "mobile": "fraud targeting mobile money wallets",
    "abuse_by_authorities": "unchecked surveillance of online communications",
    "sensitive_information": "the exposure of medical records",
    "online_abuse_gbv": "harassment of women journalists online",
    "shared_critical_services": "hijacking of routes and DNS tampering",
    "industrial_control_systems": "remote access to water treatment controls",
    "data_repurposing": "the resale of smart meter data",
    "secure_development": "software shipped without basic security testing",
    "unauthorized_device_access": "the takeover of connected cameras",
    "awareness_capacity": "the shortage of trained incident responders",
    "cyber_resilient_cities": "attacks on municipal services",
    "diversity": "the small number of women in security teams",
    "cryptocurrency": "ransom demands paid in cryptocurrencies",
    "social_media": "disinformation spread through social networks",
    "whistleblowers": "retaliation against people who report security failures",
}
FILLER = [
    "We thank the Best Practice Forum for the opportunity to contribute to this consultation.",
    "{org} is a {kind} working on digital policy since {year}.",
    "This submission was prepared by our policy team after consulting our members.",
    "We remain available to discuss these proposals with the forum.",
    "Further information is available on our website.",
]
HEADINGS = [
    "Introduction",
    "Cybersecurity and sustainable development",
    "Policy options for the challenges identified",
    "Responsibilities of each stakeholder group",
    "The most critical issue",
]
KINDS = ["ministry", "telecom operator", "non-governmental organisation", "national CERT",
         "university research centre", "software company", "regional organisation"]


@dataclass(frozen=True)
class Contribution:
    file_stem: str
    organisation: str
    sections: list[tuple[str, list[str]]]


def _paragraph(rng: random.Random) -> str:
    areas = rng.sample(sorted(ACTIONS), k=rng.choice([1, 1, 2]))
    sentences: list[str] = []
    for area in areas:
        sentences.append(rng.choice(PROBLEMS).format(x=TOPICS[area], year=rng.randint(2012, 2017)))
        for _ in range(rng.randint(1, 3)):
            sentences.append(f"{rng.choice(ACTORS)} {rng.choice(MODALS)} {rng.choice(ACTIONS[area])}.")
    rng.shuffle(sentences)
    return " ".join(sentences)


def make_contribution(index: int, rng: random.Random) -> Contribution:
    org = f"Organisation {index:05d}"
    kind = rng.choice(KINDS)
    sections = []
    for heading in HEADINGS:
        if heading == "Introduction":
            paras = [rng.choice(FILLER[:1]), FILLER[1].format(org=org, kind=kind, year=rng.randint(1990, 2015)),
                     FILLER[2]]
        else:
            paras = [_paragraph(rng) for _ in range(rng.randint(3, 6))]
        sections.append((heading, paras))
    sections.append(("Conclusion", [rng.choice(FILLER[3:])]))
    return Contribution(f"contribution-{index:05d}", org, sections)


def write_docx(c: Contribution, path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.author = c.organisation
    d.core_properties.created = d.core_properties.modified = FIXED_TIME
    d.add_heading("Contribution to the BPF Cybersecurity call", level=1)
    d.add_paragraph(f"Submitted by: {c.organisation}")
    for heading, paras in c.sections:
        d.add_heading(heading, level=2)
        for p in paras:
            d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(_fixed_zip_times(buf.getvalue()))


FIXED_TIME = dt.datetime(2017, 8, 1, 12, 0, 0)


def _fixed_zip_times(data: bytes) -> bytes:
    """The package with fixed member timestamps: the same corpus gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def write_pdf(c: Contribution, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()

    def footer(canvas, doc) -> None:  # page header/footer like a real export
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, 810, f"{c.organisation} - BPF Cybersecurity contribution")
        canvas.drawString(500, 30, str(doc.page))
        canvas.restoreState()

    story = [Paragraph("Contribution to the BPF Cybersecurity call", styles["Title"]),
             Paragraph(f"Submitted by: {c.organisation}", styles["Normal"]), Spacer(1, 8)]
    for heading, paras in c.sections:
        story.append(Paragraph(heading, styles["Heading2"]))
        for p in paras:
            story.append(Paragraph(p, styles["BodyText"]))
            story.append(Spacer(1, 4))
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(
        story, onFirstPage=footer, onLaterPages=footer)


def _planned(n: int, seed: int, pdf_share: float) -> Iterator[tuple[Contribution, bool]]:
    """The first n contributions of a seed, each with whether it is written as a PDF."""
    rng = random.Random(seed)
    for i in range(n):
        c = make_contribution(i, rng)
        yield c, rng.random() < pdf_share


def _write(out_dir: Path, c: Contribution, is_pdf: bool) -> Path:
    path = out_dir / f"{c.file_stem}.{'pdf' if is_pdf else 'docx'}"
    if not path.exists():
        (write_pdf if is_pdf else write_docx)(c, path)
    return path


def generate(out_dir: Path, n: int, seed: int = 2017, pdf_share: float = 0.5) -> list[Path]:
    """Write n contributions (alternating formats by pdf_share) into out_dir; reuse existing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_write(out_dir, c, is_pdf) for c, is_pdf in _planned(n, seed, pdf_share)]


def generate_one(out_dir: Path, index: int, seed: int = 2017, pdf_share: float = 0.5) -> Path:
    """Write only the contribution numbered `index` of generate(out_dir, index + 1, ...): a
    new file for a corpus of `index` files, without writing again those it removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    *_, (c, is_pdf) = _planned(index + 1, seed, pdf_share)
    return _write(out_dir, c, is_pdf)
