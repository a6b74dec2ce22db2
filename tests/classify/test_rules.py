"""spaCy rules: policy-option detection and the actors a sentence gives a role to."""

from __future__ import annotations

import pytest

from pipeline.classify.policy_option import find_option_sentences, is_policy_option
from pipeline.classify.rules import RuleEngine
from pipeline.classify.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def engine(taxonomy_path) -> RuleEngine:
    return RuleEngine(load_taxonomy(taxonomy_path.parent).actor_lexicon())


OPTIONS = [
    "States should criminalise the creation of botnets.",
    "Operators must filter traffic with spoofed source addresses at the network edge.",
    "We recommend that internet service providers implement BCP 38.",
    "We call on governments to fund national CERTs.",
    "It is good practice for vendors to publish a vulnerability disclosure policy.",
    "There is a need for regulators to act on insecure routers.",
    "Manufacturers are encouraged to ship devices with unique passwords.",
    "Establish a national CERT with a clear legal mandate.",
    "- Promote digital literacy in primary schools.",
    "Civil society could monitor how surveillance laws are applied.",
    "The onus is on platforms to act quickly on abuse reports.",
    "Los gobiernos deberían invertir en la formación de jueces y fiscales.",
    "Il convient de renforcer la coopération entre les CERT nationaux.",
    "Diversity in the cybersecurity workforce should be promoted.",
]

NOT_OPTIONS = [
    "Attacks could disrupt services for days.",
    "This may be the case in many developing countries.",
    "In 2016 a botnet of cameras took a DNS provider offline.",
    "We thank the Best Practice Forum for the opportunity to contribute.",
    "Please find attached our contribution to the call.",
    "What should governments do about ransomware?",
    "This document does not constitute legal advice and should not be relied upon as such.",
    "Respondents were asked to rank the challenges from one to ten.",
    "Smith, J. (2016). Routing security in Africa. Journal of Networks 3(1), 10-20.",
    "The hospital had to cancel operations while the attackers collected payments in bitcoin.",
]


@pytest.mark.parametrize("text", OPTIONS)
def test_clear_policy_options(engine, text):
    assert is_policy_option(text, engine)


@pytest.mark.parametrize("text", NOT_OPTIONS)
def test_clear_non_options(engine, text):
    assert not is_policy_option(text, engine)


def test_option_sentence_offsets_point_into_the_text(engine):
    text = ("Ransomware hit three hospitals last year.  Health ministries should require offline "
            "backups. Patients waited for hours.")
    found = find_option_sentences(text, engine)
    assert len(found) == 1
    o = found[0]
    assert text[o.start:o.end] == o.sentence == "Health ministries should require offline backups."
    assert o.addressees == ("government",)


@pytest.mark.parametrize("text, keys", [
    ("Governments and mobile operators should work together on SIM fraud.",
     {"government", "private_sector"}),
    ("Regulators must audit the resilience of networks.", {"government"}),
    ("We urge the ITU and regional organisations to support capacity building.",
     {"intergovernmental"}),
    ("Civil society organisations have a duty to document abuses.", {"civil_society"}),
    ("CSIRTs should share indicators of compromise across borders.", {"technical_community"}),
    ("Universities should teach secure coding in every programming degree.", {"academia"}),
    ("Users should update their routers and change default passwords.", {"users"}),
    ("It falls to the private sector to secure the devices it sells.", {"private_sector"}),
    ("All stakeholders should cooperate on incident response.",
     {"government", "intergovernmental", "private_sector", "civil_society",
      "technical_community", "academia", "users"}),
    ("Staff of intelligence agencies must have a lawful way to report wrongdoing.",
     {"government"}),
    ("Users are often victims of phishing.", set()),
    ("Attackers will keep exploiting default passwords.", set()),
])
def test_subject_rules_map_actors_to_stakeholders(engine, text, keys):
    assert set(engine.analyse(text).role_hits) == keys


def test_rule_features_have_fixed_width(engine):
    from pipeline.classify.rules import N_RULE_FEATURES

    res = engine.analyse_many(["Operators should act.", "Hello.", ""])
    assert [len(r.features()) for r in res] == [N_RULE_FEATURES] * 3
