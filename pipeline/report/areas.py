"""Display names of the challenge areas and stakeholder roles (keys fixed by CONTRACTS.md).

The short titles of the ten CENB challenges follow the 2017 output document's list of security
challenges; the long descriptions follow CONTRACTS.md. Report order: CENB a-j, then the six
additional areas raised by contributors.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.taxonomy_keys import CENB_CHALLENGE_KEYS, CHALLENGE_KEYS, STAKEHOLDER_KEYS


@dataclass(frozen=True)
class Area:
    key: str
    marker: str        # "a".."j" for the CENB challenges, "+1".."+6" for additional areas
    title: str         # short heading, as in the 2017 output document
    description: str   # the area as CONTRACTS.md words it

    @property
    def is_cenb(self) -> bool:
        return self.key in CENB_CHALLENGE_KEYS

    @property
    def heading(self) -> str:
        return f"{self.marker}. {self.title}" if self.is_cenb else self.title


_TITLES: dict[str, tuple[str, str]] = {
    "reliability_access": (
        "Securing the reliability of and access to Internet services",
        "Denial of Service and other issues that impact the reliability of and access to "
        "Internet services"),
    "mobile": (
        "Securing the mobile Internet",
        "Security of mobile devices (the vehicle of Internet growth; payments, identification)"),
    "abuse_by_authorities": (
        "Protecting against potential abuse by authorities",
        "Potential abuse by authorities: surveillance of Internet use, use of user data for other "
        "purposes than intended"),
    "sensitive_information": (
        "Confidentiality and availability of sensitive information",
        "Confidentiality and availability of sensitive information, in particular medical and "
        "health services"),
    "online_abuse_gbv": (
        "Fighting online abuse and gender-based violence",
        "Online abuse and gender-based violence"),
    "shared_critical_services": (
        "Securing shared critical services and infrastructure supporting access",
        "Security of shared critical services that support access: DNS, IXPs, routing"),
    "industrial_control_systems": (
        "Vulnerabilities in Industrial Control Systems (ICS) technologies",
        "Vulnerabilities in technologies supporting industrial control systems (ICS, SCADA)"),
    "data_repurposing": (
        "Preventing collected information from being repurposed",
        "Information collected for one purpose repurposed for other, inappropriate purposes "
        "(smart meters, IoT, de-anonymisation)"),
    "secure_development": (
        "Deploying secure development processes",
        "Lack of secure development processes amid immense growth of technology"),
    "unauthorized_device_access": (
        "Preventing unauthorized access to devices",
        "Unauthorized access to devices that play a growing role in daily life"),
    "awareness_capacity": (
        "Awareness building and capacity development",
        "Awareness building and capacity development"),
    "cyber_resilient_cities": (
        "Supporting the cyber resiliency of cities",
        "Supporting the cyber resiliency of cities"),
    "diversity": (
        "Lack of diversity in cybersecurity",
        "Lack of diversity (women) in cybersecurity"),
    "cryptocurrency": ("Cryptocurrency", "Cryptocurrency"),
    "social_media": (
        "Impact of social media on cybersecurity",
        "Impact of social media on cybersecurity"),
    "whistleblowers": (
        "Whistleblower policies and implementation",
        "Whistleblower policies and implementation"),
}


def _marker(index: int, key: str) -> str:
    if key in CENB_CHALLENGE_KEYS:
        return "abcdefghij"[index]
    return f"+{index - len(CENB_CHALLENGE_KEYS) + 1}"


AREAS: tuple[Area, ...] = tuple(
    Area(key, _marker(i, key), *_TITLES[key]) for i, key in enumerate(CHALLENGE_KEYS)
)
AREA_BY_KEY: dict[str, Area] = {a.key: a for a in AREAS}
assert set(AREA_BY_KEY) == set(CHALLENGE_KEYS)

ROLE_NAMES: dict[str, str] = {
    "government": "Government",
    "intergovernmental": "Intergovernmental organisations",
    "private_sector": "Private sector",
    "civil_society": "Civil society",
    "technical_community": "Technical community",
    "academia": "Academia",
    "users": "Users",
}
assert tuple(ROLE_NAMES) == STAKEHOLDER_KEYS


def role_name(key: str) -> str:
    return ROLE_NAMES.get(key, key.replace("_", " ").capitalize())
