"""The fixed taxonomy keys of ../shared/CONTRACTS.md.

Kept in code (not only in labels/taxonomy.yaml) because users' scripts and the acceptance
checks depend on exactly these names and this order; the YAML file is validated against them.
"""

from typing import Final

CHALLENGE_KEYS: Final[tuple[str, ...]] = (
    "reliability_access",
    "mobile",
    "abuse_by_authorities",
    "sensitive_information",
    "online_abuse_gbv",
    "shared_critical_services",
    "industrial_control_systems",
    "data_repurposing",
    "secure_development",
    "unauthorized_device_access",
    "awareness_capacity",
    "cyber_resilient_cities",
    "diversity",
    "cryptocurrency",
    "social_media",
    "whistleblowers",
)

# The ten CENB challenges (a-j of the 2017 call); the rest are additional areas.
CENB_CHALLENGE_KEYS: Final[tuple[str, ...]] = CHALLENGE_KEYS[:10]

STAKEHOLDER_KEYS: Final[tuple[str, ...]] = (
    "government",
    "intergovernmental",
    "private_sector",
    "civil_society",
    "technical_community",
    "academia",
    "users",
)
