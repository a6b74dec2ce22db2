"""spaCy rules shared by the policy-option detector and the stakeholder-role classifier.

One parse per paragraph yields, per sentence:
- whether it proposes a course of action (a deontic/modal construction with an addressee, an
  explicit recommendation, a good-practice or need statement, an imperative), and
- the actors it gives the role to: the subject of the deontic verb ("operators must ..."), the
  passive subject ("vendors are encouraged to ..."), the object of "we call on / urge /
  encourage X to ...", the complement of "it falls to X", "the onus is on X", "there is a need
  for X to ...", "it is good practice for X to ...", "X have a duty to ...".
Actors are mapped to stakeholder keys through the `actors` lexicon of labels/taxonomy.yaml.

Spanish and French sentences (which the English parser does not serve) are checked with a few
regular expressions for deontic forms ("deberían", "se recomienda", "devraient", "il convient
de"...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from pipeline.taxonomy_keys import STAKEHOLDER_KEYS

STRONG_MODALS = {"should", "must", "shall", "ought", "need", "needs", "have", "has", "had"}
WEAK_MODALS = {"could", "can", "may", "might", "would", "will"}
# "X are encouraged / expected / urged ... to"
PASSIVE_DEONTIC = {"encourage", "expect", "urge", "invite", "require", "oblige", "obligate",
                   "advise", "call", "ask", "request", "mandate", "force", "compel", "task",
                   "empower", "entrust", "recommend", "called", "bind", "duty-bind"}
# "we recommend / propose / urge ..."
RECOMMEND_VERBS = {"recommend", "propose", "suggest", "urge", "advocate", "encourage", "invite",
                   "call", "ask", "request", "support", "favour", "favor", "endorse", "insist",
                   "appeal", "implore", "exhort", "stress", "emphasise", "emphasize",
                   "underline", "reiterate", "welcome", "believe", "consider", "think"}
WANT_VERBS = {"want", "ask", "demand", "advise", "expect", "like", "need"}
STRONG_RECOMMEND = {"recommend", "propose", "suggest", "urge", "advocate", "call", "appeal",
                    "implore", "exhort", "insist", "request"}
OBJECT_CONTROL = {"urge", "encourage", "invite", "call", "ask", "request", "require", "enable",
                  "help", "allow", "empower", "oblige", "force", "compel", "push", "incentivise",
                  "incentivize", "mandate", "press", "challenge", "task", "assist",
                  "persuade", "motivate", "fund", "commission", "finance"}
DUTY_NOUNS = {"duty", "responsibility", "obligation", "role", "mandate", "task", "onus",
              "part", "job", "burden"}
IMPORTANCE_ADJ = {"good", "best", "important", "essential", "crucial", "necessary", "vital",
                  "advisable", "recommended", "imperative", "critical", "key", "urgent",
                  "desirable", "sensible", "wise", "useful", "helpful", "paramount",
                  "fundamental", "indispensable", "time", "high", "preferable", "appropriate",
                  "prudent", "incumbent", "needed", "required"}
# Imperatives that are not courses of action (letters, documents, navigation).
NON_OPTION_IMPERATIVES = {"see", "find", "note", "thank", "contact", "read", "visit", "click",
                          "refer", "let", "please", "feel", "do", "check", "look", "go",
                          "email", "write", "call", "consult", "cf", "compare",
                          "imagine", "consider", "take", "keep", "say", "remember", "welcome",
                          "forgive", "excuse", "allow", "attach", "include", "enclose"}
NON_OPTION_VERBS = {"thank", "acknowledge", "note", "read", "refer", "cite", "contact",
                    "send", "submit", "address", "direct", "sign", "attach", "apologise",
                    "apologize", "wish", "like", "love", "appreciate", "congratulate",
                    "welcome", "find", "reply", "respond", "forward", "email", "see", "rely",
                    "construe", "attribute", "interpret", "regard", "quote", "treat",
                    "hesitate", "mention", "say"}
ALL_STAKEHOLDER_PHRASES = ("all stakeholders", "all stakeholder groups", "every stakeholder",
                           "each stakeholder", "all the stakeholders", "all actors",
                           "all parties", "all relevant stakeholders", "every actor",
                           "all stakeholder communities", "each stakeholder group",
                           "each stakeholder community", "all sectors", "every sector",
                           "all the actors", "all concerned stakeholders",
                           "stakeholders of all kinds", "all interested parties")

_RE_EXPLICIT = re.compile(
    r"\bwe (?:would |therefore |also |again )*ask (?:for|that)\b|\b(?:we|i|our (?:organi[sz]ation|association|ministry|company|network|group)) "
    r"(?:would |therefore |also |further |strongly |firmly |respectfully |hereby |kindly |"
    r"again |thus |urgently )*"
    r"(?:recommend|propose|suggest|urge|call (?:on|upon|for)|advocate|appeal|encourage|"
    r"argue for|demand|want \w+ to|would like to see|"
    r"support (?:a|an|the) (?:\w+ )?(?:reform|creation|establishment|adoption|introduction|"
    r"proposal|code|framework|initiative|approach|development|model|measure))",
    re.I)
_RE_WOULD = re.compile(
    r"\b(?:would|could) (?:\w+ )?(?:help|do (?:more|much)|go a long way|make (?:a )?"
    r"(?:real |big |great )?(?:sense|difference)|be (?:far |much |a lot |even |very |most |"
    r"more |a |an |the )*(?:\w+ )?(?:effective|useful|valuable|helpful|welcome|better|"
    r"desirable|step|improvement|start|solution|way forward|advisable|wise|sensible|"
    r"beneficial|appropriate|preferable))\b|\b(?:a|the|one) (?:first|next|good|useful|"
    r"simple|practical|key|necessary) step (?:would|could|is|will) be\b|"
    r"\b(?:could|might|can) usefully\b|\b(?:we|i) would (?:\w+ )?(?:welcome|support|favour|"
    r"favor|encourage|like to see|prefer)\b", re.I)
_RE_RECO_NOUN = re.compile(
    r"\b(?:our|my|the|a|one|another|first|second|third|main|key|final|further) "
    r"(?:[\w'’]+ ){0,2}(?:recommendation|proposal|suggestion|request|ask|call)s? (?:is|are|would be|"
    r"here is|:)|^\s*(?:recommendations?|proposals?|policy options?|suggestions?)\s*[:\-–]",
    re.I)
_RE_GOOD_PRACTICE = re.compile(
    r"\b(?:it is|it's|it would be|it remains|this is|that is) (?:\w+ ){0,2}"
    r"(?:good|best|common|sound|recommended|accepted) practi[cs]e\b|"
    r"\b(?:good|best) practi[cs]e (?:is|would be|requires|dictates) (?:to|that|for)\b|"
    r"\bit (?:is|would be|remains|will be) (?:\w+ )?(?:important|essential|crucial|necessary|"
    r"vital|advisable|imperative|critical|key|urgent|desirable|paramount|fundamental|"
    r"indispensable|time|high time|preferable|appropriate|prudent|incumbent upon|"
    r"incumbent on) (?:for [\w ,'-]+ )?(?:to|that)\b|"
    r"\bthere (?:is|remains|exists) (?:a |an )?(?:\w+ )?(?:need|necessity|call|case) "
    r"(?:for [\w ,'-]+? )?(?:to|that)\b|"
    r"\b(?:it|responsibility) falls (?:to|on|upon)\b|\bresponsibility (?:[\w-]+ ){0,6}"
    r"(?:lies|rests|falls|sits) (?:\w+ )?(?:with|on|upon)\b|\bwhat (?:is|'s) (?:still |really )?"
    r"(?:missing|needed|lacking) is\b|\bwhat (?:they|we|it|countries|users|\w+) (?:really |most )?"
    r"needs? is\b|^\s*(?:good|best) practices? (?:for|in|include)\b|\bthe onus (?:is|lies|falls|rests) "
    r"(?:on|upon|with)\b|\b(?:is|are) responsible for (?:ensuring|making sure|"
    r"protecting|providing|securing)\b|\bit is up to\b|\bneeds? to be (?:done|addressed|"
    r"tackled|established|developed|promoted|strengthened|put in place|adopted)\b|"
    r"\b(?:have|has|bear|bears|carry|carries) (?:a |an |the )?(?:\w+ )?(?:duty|responsibility|"
    r"obligation|role) (?:to|in|of|for)\b",
    re.I)
_RE_ES = re.compile(
    r"\b(?:deber[íi]an?|deber[áa]n?|debe(?:n|r[íi]amos)?|se recomienda|recomendamos|"
    r"proponemos|sugerimos|instamos|exhortamos|es (?:necesario|fundamental|esencial|"
    r"importante|imprescindible|recomendable|conveniente|indispensable) (?:que|\w+r)\b|"
    r"hay que|tienen que|tiene que|se debe(?:r[íi]a)?n?|es preciso|resulta (?:necesario|"
    r"fundamental)|buena pr[áa]ctica|exigimos|pedimos|solicitamos|demandamos|recomienda|"
    r"propone|insta|impulsar[áa]n?|promover[áa]n?|establecer[áa]n?|crear[áa]n?|"
    r"publicar[áa]n?|llamamos a|invitamos a|alentamos a)\b", re.I)
_RE_FR = re.compile(
    r"\b(?:devrai(?:en)?t|devraient|doi(?:ven)?t|devront|il convient de|nous recommandons|"
    r"recommandons|nous proposons|proposons|nous appelons|appelons|nous invitons|"
    r"nous exhortons|il est (?:n[ée]cessaire|essentiel|important|indispensable|"
    r"recommand[ée]|urgent|crucial|primordial) (?:de|que|d')|il faut|il faudrait|"
    r"bonne pratique|sont (?:encourag[ée]s|invit[ée]s|appel[ée]s) [àa]|demandons|"
    r"encourageons|recommande|propose|exhorte|invite|appelle|part de responsabilit[ée]|"
    r"il importe de|publiera|mettra en place|cr[ée]era)", re.I)
# Implicit addressees: what a proposal asks for names who has to do it even when no actor is
# the subject ("must be defined in law" -> government; "devices should ship with ..." ->
# private sector; "the protocol should ..." -> technical community).
_RE_IMPLICIT = {
    "government": [
        ("law", re.compile(
            r"\b(?:laws?|legislation|legislative|legislate|legal (?:framework|basis|"
            r"requirements?|obligations?|protections?|safeguards?|status|definition|"
            r"provisions?|regime)|by law|in law|statutes?|statutory|regulations?|regulatory|"
            r"regulated?|illegal|unlawful|outlaw(?:ed)?|criminali[sz]ed?|criminal offen[cs]es?|"
            r"mandatory|compulsory|licen[cs]ing|licen[cs]ed|court orders?|warrants?|judicial "
            r"(?:authori[sz]ation|oversight|control|review|approval)|public procurement|"
            r"procurement (?:rules|requirements|contracts?)|"
            r"ley(?:es)?|legislaci[óo]n|regulaci[óo]n|reglamento|obligatori[oa]s?|lois?|"
            r"l[ée]gislation|r[ée]glementation|obligatoires?|"
            r"(?:orden|autorizaci[óo]n|control|supervisi[óo]n) judicial|delitos?|"
            r"protecci[óo]n legal|contrataci[óo]n p[úu]blica|compras p[úu]blicas|"
            r"autorit[ée] judiciaire|autorisation judiciaire|contr[ôo]le (?:d'un juge|"
            r"judiciaire)|infractions? p[ée]nales?|protection l[ée]gale|march[ée]s publics)\b",
            re.I)),
    ],
    "private_sector": [
        ("product", re.compile(
            r"\b(?:products?|devices?|apps?|applications|software|firmware|equipment|routers?|"
            r"cameras?|handsets?|smartphones?|phones|gadgets?|toys|services?) (?:\w+ ){0,3}"
            r"(?:should|must|shall|need to|ought to)\b|\bship(?:ped|s)? with\b|"
            r"\b(?:by default|out of the box|factory default|default passwords?|security "
            r"updates?|end[- ]of[- ]life|terms of service|their customers|customer data)\b",
            re.I)),
    ],
    "technical_community": [
        ("standard", re.compile(
            r"\b(?:(?:technical|open|protocol|internet|interoperable|security) standards|"
            r"protocols?|specifications?|rfcs?|dnssec|rpki|bgp|routing "
            r"security|name servers?|resolvers?|route filtering|open[- ]source (?:code|"
            r"software|projects?))\b", re.I)),
    ],
    "intergovernmental": [
        ("international", re.compile(
            r"\b(?:international (?:cooperation|norms?|agreements?|treat(?:y|ies)|conventions?|"
            r"frameworks?|guidance|standards?)|treat(?:y|ies)|conventions?|"
            r"multilateral|cross-border cooperation|regional (?:cooperation|harmoni[sz]ation|"
            r"frameworks?|centres?|centers?|exercises?|networks?))\b", re.I)),
    ],
    "users": [
        # advice in the second person: "Disable UPnP on your router."
        ("second-person", re.compile(r"\b(?:your|you|yourself)\b", re.I)),
    ],
}


def implicit_keys(text: str) -> dict[str, str]:
    """Stakeholder key -> pattern name for the implicit addressees of an option sentence."""
    found: dict[str, str] = {}
    for key, pats in _RE_IMPLICIT.items():
        for name, rx in pats:
            if rx.search(text):
                found[key] = name
                break
    return found


# Spanish/French verbs whose object is the addressee ("recomendamos que los gobiernos ...").
_RE_ROMANCE_ASK = re.compile(
    r"(?:recomend|propon|suger|inst|exhort|exig|ped|solicit|demand|llam|invit|alent|recommand|"
    r"propos|appel|exhort|encourag)", re.I)
_RE_QUESTION = re.compile(r"\?\s*[\"'”’)]*\s*$")
_RE_BULLET = re.compile(r"^\s*(?:[-–—•*·▪●○◦]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s*")


@dataclass(frozen=True)
class OptionSentence:
    """A sentence of a paragraph that proposes a course of action."""

    sentence: str
    start: int                 # character offsets into the paragraph text
    end: int
    cue: str                   # which rule fired (for debugging and the report)
    addressees: tuple[str, ...] = ()   # stakeholder keys the sentence gives the role to


@dataclass
class RuleResult:
    """Everything the rules found in one paragraph."""

    options: list[OptionSentence] = field(default_factory=list)
    # stakeholder key -> number of sentences that give it a role (subject of a deontic...,
    # or the implicit addressee of an option sentence that names no actor)
    role_hits: dict[str, int] = field(default_factory=dict)
    # stakeholder key -> number of times a lexicon actor is mentioned anywhere
    mentions: dict[str, int] = field(default_factory=dict)
    # stakeholder key -> number of option sentences that mention it
    option_mentions: dict[str, int] = field(default_factory=dict)
    # stakeholder key -> number of option sentences that address it implicitly (no actor of
    # that group named as its subject: "must be defined in law" -> government)
    implicit_hits: dict[str, int] = field(default_factory=dict)
    n_sentences: int = 0

    @property
    def is_policy_option(self) -> bool:
        return bool(self.options)

    def features(self) -> list[float]:
        """Per stakeholder key: [role hit, mention, mention in an option sentence], plus two
        global values (any option sentence, any option sentence with an addressee)."""
        out: list[float] = []
        for k in STAKEHOLDER_KEYS:
            out.append(1.0 if self.role_hits.get(k) else 0.0)
            out.append(min(self.mentions.get(k, 0), 3) / 3.0)
            out.append(1.0 if self.option_mentions.get(k) else 0.0)
        out.append(1.0 if self.options else 0.0)
        out.append(1.0 if any(o.addressees for o in self.options) else 0.0)
        return out


N_PER_KEY = 3
N_RULE_FEATURES = N_PER_KEY * len(STAKEHOLDER_KEYS) + 2


class ActorLexicon:
    """Maps a noun phrase to stakeholder keys (longest matching suffix of the phrase wins)."""

    def __init__(self, lexicon: dict[str, tuple[str, ...]]) -> None:
        self.lexicon = {p.lower(): keys for p, keys in lexicon.items()}
        self.max_words = max((len(p.split()) for p in self.lexicon), default=1)

    def keys_for_words(self, words: Sequence[str]) -> tuple[str, ...]:
        return self._match(words)[0]

    def _match(self, words: Sequence[str]) -> tuple[tuple[str, ...], int]:
        """(keys, start index of the match) of the longest lexicon phrase in the words."""
        words = [w.lower().replace("\u2019", "'") for w in words if w.strip()]
        keys, start = self._longest(words)
        if not keys and any(w in ("'s", "'") for w in words):
            # "women's organisations", split by the parser; kept apart where the possessive is
            # the actor itself ("the technical community's contribution")
            joined, origin = _join_clitics(words)
            keys, start = self._longest(joined)
            if keys:
                start = origin[start]
        return keys, start

    def _longest(self, words: list[str]) -> tuple[tuple[str, ...], int]:
        n = len(words)
        # longest match anywhere in the phrase, preferring those that end at the head (last word)
        for size in range(min(self.max_words, n), 0, -1):
            for start in range(n - size, -1, -1):
                phrase = " ".join(words[start:start + size])
                if phrase in self.lexicon:
                    return self.lexicon[phrase], start
        return (), -1

    def keys_for_token(self, tok) -> tuple[str, ...]:
        """Stakeholder keys for a subject/object token, from its noun phrase."""
        if tok.text == "WHO":
            return ("intergovernmental",)        # the World Health Organization, not "who"
        if tok.lower_ in ("we", "i", "us", "you", "they", "it", "this", "that", "which",
                          "who", "one", "he", "she"):
            return ()
        phrase = _np_words(tok)
        dets = [c.lower_ for c in tok.lefts if c.dep_ in ("det", "predet")]
        text = " ".join(dets + phrase).lower()
        if any(p in text for p in ALL_STAKEHOLDER_PHRASES) or (
                (tok.lemma_.lower() in ("stakeholder", "actor", "party")
                 or (tok.lemma_.lower() in ("group", "community", "sector")
                     and "stakeholder" in text))
                and any(c.lower_ in ("all", "every", "each") for c in tok.children)):
            # "all stakeholders - governments, the private sector and academia - to ...":
            # the enumeration names the groups
            listed: tuple[str, ...] = ()
            heads = [ap for ap in tok.children if ap.dep_ == "appos"]
            doc = tok.doc
            if not heads and tok.i + 2 < len(doc) and doc[tok.i + 1].text in DASHES:
                # the parser often hangs the dashed list elsewhere: take what follows the dash
                nxt = next((t for t in doc[tok.i + 2:min(len(doc), tok.i + 6)]
                            if t.pos_ in ("NOUN", "PROPN")), None)
                if nxt is not None:
                    heads = [nxt]
            for ap in heads:
                for cc in _conjuncts(ap):
                    listed = tuple(dict.fromkeys(listed + self.keys_for_token(cc)))
            return listed or tuple(STAKEHOLDER_KEYS)
        keys: tuple[str, ...] = ()
        # "regional communities such as ECOWAS and SADC": the examples name the group
        for prep in tok.children:
            if prep.dep_ == "prep" and prep.lower_ in ("as", "like", "including") and (
                    prep.lower_ != "as" or prep.i > 0 and prep.nbor(-1).lower_ == "such"):
                for obj in _has_child(prep, ("pobj",)):
                    for cc in _conjuncts(obj):
                        keys = tuple(dict.fromkeys(keys + self.keys_for_token(cc)))
        if keys:
            return keys
        if tok.lemma_.lower() in GENERIC_HEADS:
            # "staff of intelligence agencies", "members of parliament": the group named after of
            for prep in tok.children:
                if prep.dep_ == "prep" and prep.lower_ in ("of", "in", "at", "from"):
                    for obj in _has_child(prep, ("pobj",)):
                        keys = self.keys_for_token(obj)
                        if keys:
                            return keys
        keys, start = self.actors_match(phrase)
        if not keys:
            keys = self.keys_for_words([tok.text])
        if not keys or start < len(phrase) - 1 and tok.lower_ in AMBIGUOUS_HEADS:
            # "chambers of commerce", "ministries of education", "developers of products"
            for prep in tok.children:
                if prep.dep_ == "prep" and prep.lower_ == "of":
                    for obj in _has_child(prep, ("pobj",)):
                        k2 = self.keys_for_words(phrase + ["of"] + _np_words(obj))
                        if k2:
                            keys = k2
                            break
        if keys == ("government",) and any(w.lower() in INTERNATIONAL_WORDS for w in phrase):
            return ("intergovernmental",)
        return keys

    def actors_match(self, phrase: list[str]) -> tuple[tuple[str, ...], int]:
        """The lexicon match of a noun phrase; a generic head matched alone ("IXP
        associations", "municipal networks") yields to a match among its modifiers."""
        keys, start = self._match(phrase)
        if keys and len(phrase) > 1 and start == len(phrase) - 1 and \
                phrase[-1].lower() in AMBIGUOUS_HEADS:
            mod, mstart = self._match(phrase[:-1])
            if mod:
                return mod, mstart
        return keys, start

    def keys_in_words(self, text: str) -> set[str]:
        """Every lexicon phrase found in a text by plain word n-grams (Spanish/French)."""
        words = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text.lower())
        found: set[str] = set()
        for size in range(min(self.max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start:start + size])
                if phrase in self.lexicon and phrase not in ROMANCE_FALSE_FRIENDS:
                    found.update(self.lexicon[phrase])
        return found


GENERIC_HEADS = {"manager", "managers", "staff", "member", "members", "official", "officials", "personnel", "head",
                 "heads", "leader", "leaders", "management", "representative",
                 "representatives", "employee", "employees", "board", "boards", "team",
                 "teams", "part", "all", "each", "some", "many", "most", "none", "one",
                 "body", "bodies", "association", "associations", "network", "networks"}
ANAPHORS = {"it", "they", "them"}
ROLE_LIST_NOUNS = {"role", "roles", "responsibility", "responsibilities", "division", "duty",
                   "duties", "task", "tasks"}
DISTRIBUTIVE_SUBJECTS = {"each", "both", "all", "everyone", "everybody"}
DASHES = {"–", "—", "-", "(", ":"}
# Heads whose own lexicon entry yields to a group named by their modifiers.
AMBIGUOUS_HEADS = {"associations", "association", "community", "communities", "networks",
                   "network", "groups", "group", "bodies", "body", "providers", "provider",
                   "operators", "operator", "organisations", "organizations", "agencies",
                   "agency", "authorities", "authority", "platforms", "platform", "boards",
                   "board"}
# English lexicon entries that are ordinary Spanish/French words ("un", "au", "eu"...).
ROMANCE_FALSE_FRIENDS = {"un", "au", "eu", "apt", "first", "cto", "iso", "who", "cert",
                         "media", "press", "igo"}
INTERNATIONAL_WORDS = {"international", "multilateral", "intergovernmental", "un",
                       "supranational"}


def _join_clitics(words: list[str]) -> tuple[list[str], list[int]]:
    """The parser splits "women's" and "operators'" into two tokens; the lexicon writes them
    as one word ("women's organisations", "network operators' groups"). Returns the joined
    words and, for each, the index of its first word in the input."""
    out: list[str] = []
    origin: list[int] = []
    for i, w in enumerate(words):
        if out and w in ("'s", "'"):
            out[-1] += w
        else:
            out.append(w)
            origin.append(i)
    return out, origin


def _np_words(tok) -> list[str]:
    """The modifiers left of a noun (compound, amod, nmod, poss) and the noun itself."""
    left = [c for c in tok.lefts if c.dep_ in ("compound", "amod", "nmod", "npadvmod", "poss")]
    words: list[str] = []
    head = tok.head
    if tok.dep_ == "dobj" and head.i == tok.i - 1 and head.dep_ == "conj" and \
            head.head.pos_ in ("NOUN", "PROPN"):
        # tagger error: "content delivery and cloud/VB providers" - the "verb" is a modifier
        words.append(head.text)
    for c in left:
        words.extend(t.text for t in c.subtree if not t.is_punct)
    words.append(tok.text)
    return words


def _conjuncts(tok) -> list:
    """The token, its conjuncts and appositions ("Governments, the private sector, civil
    society and academia", "regulators - and parliaments -")."""
    out = [tok]
    seen = {tok.i}
    todo = [tok]
    while todo:
        t = todo.pop()
        for c in list(t.conjuncts) + [c for c in t.children if c.dep_ in ("conj", "appos")]:
            if c.i not in seen and c.pos_ == "VERB" and c.dep_ == "conj" and \
                    t.pos_ in ("NOUN", "PROPN"):
                # a noun conjoined with a "verb" is a tagger error ("delivery and cloud
                # providers"): the noun it governs is the conjunct
                c = next((o for o in c.children if o.dep_ == "dobj" and o.i == c.i + 1
                          and o.pos_ in ("NOUN", "PROPN")), c)
            if c.i not in seen and c.pos_ in ("NOUN", "PROPN", "PRON"):
                seen.add(c.i)
                out.append(c)
                todo.append(c)
    return out


def _has_child(tok, deps: Iterable[str]):
    deps = set(deps)
    return [c for c in tok.children if c.dep_ in deps]


class RuleEngine:
    """Runs the rules over paragraphs with the shared spaCy pipeline."""

    def __init__(self, lexicon: dict[str, tuple[str, ...]], nlp=None) -> None:
        self.actors = ActorLexicon(lexicon)
        self._nlp = nlp
        self._antecedent: tuple[str, ...] = ()
        self._secondary: set[str] = set()
        self._header: set[str] = set()      # "Good practice for X:", "We recommend to X:"

    @property
    def nlp(self):
        if self._nlp is None:
            from pipeline.nlp import load_nlp

            self._nlp = load_nlp()
        return self._nlp

    # -- public -------------------------------------------------------------------------------
    def analyse(self, text: str) -> RuleResult:
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: Sequence[str], batch_size: int = 64) -> list[RuleResult]:
        clipped = [t[:20000] for t in texts]   # the parser's cost is linear; cap pathological rows
        return [self._analyse_doc(doc) for doc in self.nlp.pipe(clipped, batch_size=batch_size)]

    # -- per sentence -------------------------------------------------------------------------
    def _analyse_doc(self, doc) -> RuleResult:
        res = RuleResult()
        self._antecedent = ()
        header: set[str] = set()
        for sent in doc.sents:
            res.n_sentences += 1
            s_text = sent.text.strip()
            if not s_text:
                continue
            sent_mentions: dict[str, int] = {}
            romance = _romance(s_text)
            if romance:
                for key in self.actors.keys_in_words(s_text):
                    sent_mentions[key] = sent_mentions.get(key, 0) + 1
            else:
                self._mentions(sent, sent_mentions)
            for key, n in sent_mentions.items():
                res.mentions[key] = res.mentions.get(key, 0) + n
            cue, actors = self._option(sent)
            self._antecedent = self._sentence_subject_keys(sent)
            carried: set[str] = set()
            if cue in ("imperative", "measure-fragment") and not actors:
                # bullets under "Good practice for asset owners:" / "We recommend to
                # conference organisers:" address the group the header names
                carried = set(header)
            if self._header:
                header = set(self._header)
            if not romance:
                listed = self._role_list(sent)
                if listed:
                    cue = cue or "role-list"
                    actors = set(actors) | listed
            if cue and romance:
                actors = set(actors) | self._romance_addressees(s_text)
            elif cue:
                actors = set(actors) | self._with_participants(sent)
                if cue == "recommend:call":
                    actors = set(actors) | self._second_call_on(sent)
            if cue:
                for key in sent_mentions:
                    res.option_mentions[key] = res.option_mentions.get(key, 0) + 1
                # no actor named as the addressee: what the proposal asks for says who has to
                # do it ("must be defined in law" -> government); counted as a role
                # (an agent or source named in passing - "guidance from the WHO" - does not
                # say who the proposal is addressed to)
                implicit = implicit_keys(s_text) if not (set(actors) - self._secondary) else {}
                for key in implicit:
                    res.implicit_hits[key] = res.implicit_hits.get(key, 0) + 1
                actors = set(actors) | set(implicit) | carried
            for key in actors:
                res.role_hits[key] = res.role_hits.get(key, 0) + 1
            if cue:
                start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
                res.options.append(OptionSentence(sentence=s_text, start=start,
                                                  end=start + len(s_text), cue=cue,
                                                  addressees=tuple(sorted(
                                                      actors, key=STAKEHOLDER_KEYS.index))))
        return res

    def _role_list(self, sent) -> set[str]:
        """A division of labour after a colon that announces roles ("works best when roles are
        clear: governments set the legal framework, companies secure their networks, ..."):
        the subjects of the present-tense clauses after the colon."""
        colon = next((t for t in sent if t.text == ":"), None)
        if colon is None or not any(t.lemma_.lower() in ROLE_LIST_NOUNS
                                    for t in sent[:colon.i - sent.start]):
            return set()
        keys: set[str] = set()
        for tok in sent[colon.i - sent.start + 1:]:
            if tok.dep_ == "nsubj" and tok.head.i > colon.i and \
                    (tok.head.tag_ in ("VBP", "VBZ", "VB", "MD")
                     or tok.head.tag_ == "VBD" and tok.head.lower_ == tok.head.lemma_) and \
                    not _negated(tok.head):
                # "set", "put" tagged as past tense are the present in a list like this
                keys.update(self._keys(tok))
        return keys

    def _second_call_on(self, sent) -> set[str]:
        """The second addressee of "we call on X to V and on Y to W", which the parser hangs
        on the first infinitive."""
        keys: set[str] = set()
        for tok in sent:
            if tok.lower_ == "on" and tok.dep_ == "conj" and tok.i > sent.start and \
                    tok.nbor(-1).lower_ == "and":
                doc = tok.doc
                for obj in _has_child(tok, ("pobj",)):
                    nxt = obj.right_edge.i + 1
                    if nxt < len(doc) and doc[nxt].tag_ == "TO":     # "on Y to W"
                        for cc in _conjuncts(obj):
                            keys.update(self._keys(cc))
        return keys

    def _with_participants(self, sent) -> set[str]:
        """Actors given a part in a proposal by an absolute "with X doing Y" clause ("could
        fund scholarships, with women's networks selecting the scholars", "host the
        exchange, with a sector CSIRT acting as the hub")."""
        keys: set[str] = set()
        for tok in sent:
            if tok.lower_ != "with" or tok.dep_ != "prep" or tok.i == sent.start or \
                    tok.nbor(-1).text not in (",", ";", "–", "—"):
                # set off by a comma: "work with companies operating in X" is no such clause
                continue
            subjects = []
            for c in tok.children:
                if c.dep_ == "pcomp" and c.tag_ == "VBG":
                    subjects += _has_child(c, ("nsubj",))
                elif c.dep_ == "pobj" and any(a.dep_ == "acl" and a.tag_ == "VBG" and
                                              a.i > c.i for a in c.children):
                    subjects.append(c)
            for subj in subjects:
                for cc in _conjuncts(subj):
                    keys.update(self._keys(cc))
        return keys

    def _romance_addressees(self, text: str) -> set[str]:
        """Spanish/French: the groups named where the addressee stands - after "recomendamos
        que / nous appelons les", before "deberían / doivent" - not every group mentioned."""
        found: set[str] = set()
        for rx in (_RE_ES, _RE_FR):
            for m in rx.finditer(text):
                if _RE_ROMANCE_ASK.search(m.group(0)):
                    window = re.split(r"[,;:.]", text[m.end():m.end() + 120])[0]
                else:
                    window = re.split(r"[.;:!?]", text[:m.start()])[-1]
                found |= self.actors.keys_in_words(window)
        return found

    def _mentions(self, sent, counts: dict[str, int]) -> None:
        for tok in sent:
            if tok.pos_ in ("NOUN", "PROPN") and tok.dep_ not in ("compound", "amod"):
                for key in self.actors.keys_for_token(tok):
                    counts[key] = counts.get(key, 0) + 1

    def _agent_keys(self, verb) -> set[str]:
        """The agent of a passive: "should be adopted by operators" -> operators."""
        keys: set[str] = set()
        for ag in _has_child(verb, ("agent",)):
            for obj in _has_child(ag, ("pobj",)):
                for cc in _conjuncts(obj):
                    keys.update(self._keys(cc))
        return keys

    def _subject_keys(self, verb) -> tuple[set[str], list]:
        subj = _has_child(verb, ("nsubj", "nsubjpass"))
        if not subj and verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX") and \
                not _has_child(verb, ("expl",)):
            # "Cloud providers hold data ... and should commit publicly ..."
            subj = _has_child(verb.head, ("nsubj",)) if not _passive(verb) else []
        elif len(subj) == 1 and subj[0].lower_ in DISTRIBUTIVE_SUBJECTS and \
                verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX"):
            # "States, companies and users all share the task, and each must do its part":
            # "each" stands for the subjects of the clause it is coordinated with
            subj = _has_child(verb.head, ("nsubj",)) or subj
        keys: set[str] = set()
        for s in subj:
            for c in _conjuncts(s):
                keys.update(self._keys(c))
        return keys, subj

    def _keys(self, tok) -> tuple[str, ...]:
        """Lexicon keys of a subject/object; "it", "they", "them" take the actor that was the
        subject of the previous sentence ("Civil society has a watchdog role. It should ...")."""
        if tok.lower_ in ANAPHORS and tok.i - tok.sent.start <= 12:
            return self._antecedent
        return self.actors.keys_for_token(tok)

    def _sentence_subject_keys(self, sent) -> tuple[str, ...]:
        """The actor keys of the main subject of a sentence (antecedent for the next one)."""
        root = sent.root
        subj = _has_child(root, ("nsubj", "nsubjpass"))
        keys: list[str] = []
        for s in subj:
            for c in _conjuncts(s):
                for k in (self.actors.keys_for_token(c) if c.lower_ not in ANAPHORS
                          else self._antecedent):
                    if k not in keys:
                        keys.append(k)
        return tuple(keys)

    def _option(self, sent) -> tuple[str | None, set[str]]:
        """(cue or None, stakeholder keys given a role) for one sentence."""
        text = sent.text.strip()
        actors: set[str] = set()
        pending: set[str] = set()       # object-control actors, counted once a cue is found
        secondary: set[str] = set()     # agents and sources of what is proposed (4c)
        self._secondary = secondary
        self._header = set()
        if _RE_QUESTION.search(text):
            return None, actors
        cue: str | None = None

        for tok in sent:
            # 1. modal / semi-modal with its verb: "X should V", "X need to V", "X have to V"
            semi = (tok.lemma_ in ("need", "have", "ought") and tok.i + 1 < len(tok.doc)
                    and tok.nbor(1).lower_ == "to" and tok.tag_ not in ("VBD", "VBN", "VBG")
                    and any(c.dep_ == "xcomp" for c in tok.children))
            if (tok.dep_ in ("aux", "auxpass") and tok.tag_ == "MD") or semi:
                verb = tok.head if not semi else tok
                modal = tok.lower_
                if modal in ("had",) or (tok.dep_ == "aux" and tok.lemma_ in ("have", "need")):
                    continue
                if not _main_clause(verb):
                    continue
                subj_keys, subj = self._subject_keys(verb)
                if subj and subj[0].i > tok.i and not semi:
                    continue            # inversion: "should you require ...", questions
                if any(s.lower_ in NEGATIVE_SUBJECTS for s in subj):
                    continue
                target = verb
                if semi:
                    target = next((c for c in tok.children if c.dep_ == "xcomp"), verb)
                if target.lemma_ in NON_OPTION_VERBS and not subj_keys:
                    continue
                if self._is_we_describing(subj, target):
                    continue
                strong = semi or modal in STRONG_MODALS
                if strong:
                    if target.lemma_ == "be" and any(c.lower_ in ("case", "true", "likely")
                                                     for c in target.children):
                        continue
                    cue = cue or f"modal:{modal}"
                    # "X should be told / given / protected": X is who it is done to; "should
                    # be adopted by X": the agent acts; "X must be able to / have access to":
                    # an entitlement, not a duty
                    actors |= self._agent_keys(target)
                    if not (_patient_subject(target) or _entitlement(target)):
                        actors |= subj_keys
                elif modal == "will" and any(x.lower_ == "we" for x in subj) and \
                        verb.lemma_ in HELPING_VERBS and not _has_child(verb, ("neg",)):
                    cue = cue or "commitment:will"
                elif subj_keys and not _passive(verb) and verb.lemma_ != "be" and (
                        modal in ("could", "might")
                        or (modal in ("can", "would", "will") and _helping(verb)
                            and subj_keys != {"users"})):
                    if any(n.dep_ == "neg" for n in verb.children):
                        continue
                    # weak modal with an actor as subject: "civil society could monitor ...",
                    # commitments "the Ministry will publish ..."
                    cue = cue or f"modal:{modal}+actor"
                    actors |= subj_keys

            # 2. "X are encouraged / expected / urged to V" (present tense)
            if tok.lemma_ in PASSIVE_DEONTIC and tok.tag_ == "VBN" and _main_clause(tok):
                aux = _has_child(tok, ("auxpass",))
                if aux and aux[0].lower_ in ("is", "are", "be", "remain", "remains") and \
                        any(c.dep_ == "xcomp" for c in tok.children):
                    keys, _ = self._subject_keys(tok)
                    if (tok.lemma_ not in ("expect", "ask") or keys) and \
                            not _has_child(tok, ("agent",)):
                        cue = cue or f"passive:{tok.lemma_}"
                        actors |= keys

            # 3. "we recommend that X ...", "we call on X to ...", "the Commission urges X to"
            if tok.pos_ == "VERB" and tok.lemma_ in RECOMMEND_VERBS | WANT_VERBS and \
                    tok.tag_ in ("VBP", "VBZ", "VB") and _main_clause(tok):
                subj = _has_child(tok, ("nsubj",))
                if not subj and tok.dep_ == "conj":
                    subj = _has_child(tok.head, ("nsubj",))
                first_person = any(s.lower_ in ("we", "i") for s in subj)
                org_subject = tok.tag_ == "VBZ" and any(
                    self.actors.keys_for_token(s) or s.lemma_.lower() in ORG_NOUNS for s in subj)
                # want/like/ask/expect count only with someone else to act: "we would like
                # ministries to fund ...", "we ask for ...", not "I would like to share ..."
                other = any(c.dep_ == "prep" and c.lower_ == "for" for c in tok.children) or (
                    any(c.dep_ == "dobj" for c in tok.children)
                    and any(c.dep_ in ("ccomp", "xcomp") for c in tok.children)) or any(
                    c.dep_ == "ccomp" and _has_child(c, ("nsubj", "nsubjpass"))
                    for c in tok.children)
                wanted = tok.lemma_ not in WANT_VERBS or other
                if subj and (first_person or org_subject) and wanted and tok.lemma_ in \
                        (STRONG_RECOMMEND | OBJECT_CONTROL | WANT_VERBS | {"argue", "favour",
                                                                          "favor"}) - {"support"}:
                    if not any(n.dep_ == "neg" for n in tok.children):
                        cue = cue or f"recommend:{tok.lemma_}"
                if first_person and tok.lemma_ == "need" and tok.tag_ in ("VBP", "VB") and \
                        _has_child(tok, ("dobj",)) and not _has_child(tok, ("neg",)):
                    cue = cue or "recommend:need"
                for c in tok.children:
                    if c.dep_ == "dobj" and tok.lemma_ in (OBJECT_CONTROL - BENEFICIARY_VERBS) | {
                            "ask", "want", "advise", "expect", "like"} and not _negated(tok):
                        # "we urge X to V", "we would like X to V", "we urge development
                        # partners who finance ... to conduct ..." (the parser hangs the
                        # infinitive on the relative clause)
                        if any(x.dep_ in ("xcomp", "ccomp") for x in tok.children) or (
                                first_person and _infinitive_in(c)):
                            for cc in _conjuncts(c):
                                actors.update(self._keys(cc))
                    if c.dep_ == "conj" and c.pos_ in ("NOUN", "PROPN") and \
                            tok.lemma_ in OBJECT_CONTROL - BENEFICIARY_VERBS and \
                            first_person and not _negated(tok) and any(
                                x.dep_ in ("acl", "relcl") and _to_verb(x) for x in c.children):
                        # "We encourage other employers to open such routes, and governments
                        # to recognise them" (the second object read as a conjunct of the verb)
                        for cc in _conjuncts(c):
                            actors.update(self._keys(cc))
                    if first_person and tok.lemma_ in ("recommend", "suggest", "propose") and \
                            tok.i + 1 < len(tok.doc) and tok.nbor(1).lower_ == "to" and (
                                (c.dep_ == "prep" and c.i == tok.i + 1) or
                                (c.dep_ in ("dobj", "dative") and c.i > tok.i + 1
                                 and c.left_edge.i <= tok.i + 2)):
                        # "We recommend to conference organizers: publish ..."
                        objs = _has_child(c, ("pobj",)) if c.dep_ == "prep" else [c]
                        for o in objs:
                            for cc in _conjuncts(o):
                                actors.update(self._keys(cc))
                                if _colon_after(o):
                                    self._header.update(self._keys(cc))
                    if c.dep_ in ("prep", "prt") and c.lower_ in ("on", "upon"):
                        for obj in _has_child(c, ("pobj",)):
                            for cc in _conjuncts(obj):
                                actors.update(self._keys(cc))
                    if c.dep_ == "ccomp":
                        # "we recommend that providers implement ... and that the regulator
                        # treat it ..."
                        for v in [c] + [x for x in c.conjuncts if x.pos_ in ("VERB", "AUX")]:
                            keys, _ = self._subject_keys(v)
                            if cue:
                                actors |= keys

            # 4. object control anywhere: "by encouraging academia to play a role"
            if tok.lemma_ in OBJECT_CONTROL - BENEFICIARY_VERBS and tok.pos_ == "VERB" and (
                    any(x.dep_ == "xcomp" for x in tok.children) or _object_then_to(tok)) and \
                    not _negated(tok) and tok.dep_ != "relcl":
                for c in _has_child(tok, ("dobj",)):
                    for cc in _conjuncts(c):
                        # kept until the sentence is known to be an option: an imperative
                        # ("Require operators to keep a register ...") is found after the loop
                        pending.update(self._keys(cc))

            # 4b. "... and governments to recognise them": subject of an infinitive ("X to V")
            if tok.dep_ in ("nsubj", "dobj") and any(
                    c.dep_ == "aux" and c.tag_ == "TO" for c in tok.head.children) and \
                    tok.head.tag_ == "VB" and tok.i < tok.head.i and not any(
                    c.dep_ == "mark" and c.lower_ == "for" for c in tok.head.children) and \
                    not _beneficiary_object(tok):
                for cc in _conjuncts(tok):
                    pending.update(self._keys(cc))

            # 4c. who does what the proposal names: the agent of a participle ("a taxonomy
            # developed jointly by industry associations and national authorities",
            # "programmes delivered by international organisations should ..."), the source of
            # support ("with funding from development partners", "guidance from regulators")
            if tok.dep_ == "pobj" and (
                    (tok.head.dep_ == "agent" and _reduced_participle(tok.head.head))
                    or (tok.head.lower_ == "from"
                        and tok.head.head.lemma_.lower() in SUPPORT_NOUNS)):
                for cc in _conjuncts(tok):
                    secondary.update(self._keys(cc))

            # 4d. participants named in what is proposed: "an exercise ... bringing together
            # national CIRTs, ministries and the main operators", "to convene operators,
            # central banks and consumer groups" (counted once the sentence is an option)
            if tok.pos_ == "VERB" and (tok.lemma_ in CONVENE_VERBS or (
                    tok.lemma_ == "bring" and any(c.lower_ == "together" for c in tok.children))) \
                    and not _negated(tok):
                for c in _has_child(tok, ("dobj",)):
                    for cc in _conjuncts(c):
                        pending.update(self._keys(cc))

            # 4e. "X are best / well placed to V": the writer assigns X the task
            if tok.lower_ == "placed" and tok.tag_ == "VBN" and _main_clause(tok) and any(
                    c.dep_ == "advmod" and c.lower_ in PLACED_ADVERBS for c in tok.children) \
                    and any(c.dep_ == "xcomp" for c in tok.children) and not _negated(tok):
                keys, _ = self._subject_keys(tok)
                if keys:
                    cue = cue or "placed"
                    actors |= keys

            # 4f. "it is the responsibility of X to V" and genitive holders of a duty
            # ("governments' obligation to protect ..."; counted once the sentence is an option)
            if tok.dep_ == "pobj" and tok.head.lower_ == "of" and \
                    tok.head.head.lemma_.lower() in HOLDER_NOUNS and \
                    tok.head.head.dep_ in ("attr", "nsubj") and \
                    tok.head.head.head.lemma_ == "be" and not _negated(tok.head.head.head):
                keys = set()
                for cc in _conjuncts(tok):
                    keys.update(self._keys(cc))
                if keys:
                    cue = cue or "responsibility-of"
                    actors |= keys
            if tok.dep_ == "poss" and tok.head.lemma_.lower() in HOLDER_NOUNS:
                for cc in _conjuncts(tok):
                    pending.update(self._keys(cc))

            # 5. "for X to V" after need / practice / important / responsibility
            if tok.dep_ == "nsubj" and tok.head.dep_ in ("advcl", "relcl", "acl", "ccomp",
                                                        "xcomp") and any(
                    c.dep_ == "mark" and c.lower_ == "for" for c in tok.head.children):
                anchor = tok.head.head
                if anchor.lemma_ in IMPORTANCE_ADJ | DUTY_NOUNS | {"need", "practice", "be",
                                                                    "time", "necessity",
                                                                    "step"}:
                    if _RE_GOOD_PRACTICE.search(text) or _RE_WOULD.search(text) or \
                            anchor.lemma_ in DUTY_NOUNS | {"need", "practice", "step"}:
                        cue = cue or "for-to"
                        for cc in _conjuncts(tok):
                            actors.update(self._keys(cc))

            # 6. "it falls to X", "the onus is on X", "responsibility lies with X"
            if tok.dep_ == "pobj" and tok.head.lower_ in ("to", "on", "upon", "with") and (
                    tok.head.head.lemma_ in ("fall", "lie", "rest", "be", "up")):
                if _RE_GOOD_PRACTICE.search(text) and re.search(
                        r"\b(falls?|onus|lies|rests|up|responsibility)\b", text, re.I):
                    cue = cue or "falls-to"
                    for cc in _conjuncts(tok):
                        actors.update(self._keys(cc))

            # 7. "X have a duty / responsibility / role to ...", "X play a key role in ..."
            if tok.lemma_ in DUTY_NOUNS and tok.dep_ in ("dobj", "attr") and \
                    tok.head.lemma_ in ("have", "bear", "play", "take", "assume", "carry"):
                if tok.head.lemma_ in ("have", "bear", "assume", "carry") or any(
                        c.lemma_ in ("key", "important", "central", "crucial", "critical",
                                     "vital", "leading", "active", "big", "bigger",
                                     "greater", "major", "significant", "essential")
                        for c in tok.children):
                    keys, _ = self._subject_keys(tok.head)
                    if keys and tok.head.tag_ != "VBD":
                        cue = cue or f"duty:{tok.lemma_}"
                        actors |= keys

            # 7e. offers and commitments of a named actor: "the Organisation stands ready to
            # support ...", "the Commission has offered to host ...", "X commits to publish ..."
            if tok.lemma_ in COMMIT_VERBS and tok.pos_ in ("VERB", "AUX") and \
                    tok.tag_ != "VBD" and _main_clause(tok) and not _negated(tok) and (
                    (tok.lemma_ != "be" and
                     any(c.dep_ == "xcomp" and c.tag_ == "VB" for c in tok.children))
                    or any(c.dep_ in ("acomp", "oprd") and c.lower_ == "ready" and
                           any(x.dep_ == "xcomp" for x in c.children) for c in tok.children)):
                keys, _ = self._subject_keys(tok)
                if keys:
                    cue = cue or f"commitment:{tok.lemma_}"
                    actors |= keys

            # 8. main verb need / require with an object: "municipal portals need a review"
            if tok.lemma_ in ("need", "require") and tok.dep_ == "ROOT" and \
                    tok.tag_ in ("VBP", "VBZ") and _has_child(tok, ("dobj",)) and \
                    not _has_child(tok, ("neg",)):
                keys, subj = self._subject_keys(tok)
                if subj and subj[0].lower_ not in ("it", "this", "that", "attackers", "attack"):
                    if keys:
                        cue = cue or f"need:{tok.lemma_}"
                    # "people need recourse": what they are entitled to, not a duty
                    if not any(d.lemma_.lower() in ENTITLEMENT_NOUNS
                               for d in _has_child(tok, ("dobj",))):
                        actors |= keys

            # 7c. "our recommendation is that operators deploy ..."
            if tok.dep_ == "ccomp" and tok.head.lemma_ == "be" and any(
                    c.dep_ == "nsubj" and c.lemma_.lower() in PROPOSAL_NOUNS
                    for c in tok.head.children):
                for v in [tok] + [x for x in tok.conjuncts if x.pos_ in ("VERB", "AUX")]:
                    keys, _ = self._subject_keys(v)
                    actors |= keys

            # 7d. "X should be required / obliged to ...": the legislator or regulator requires
            if tok.lemma_ in LEGAL_PASSIVES and tok.tag_ == "VBN" and \
                    _has_child(tok, ("auxpass",)) and not _has_child(tok, ("agent",)) and \
                    any(c.dep_ in ("xcomp", "prep") for c in tok.children) and cue and \
                    not _negated(tok):
                actors.add("government")

            # 7b. "a duty of care for vendors", "obligations on operators", "the burden of
            # proof on the provider", "good practice for asset owners:", "what we ask of X"
            duty_object = tok.dep_ == "pobj" and tok.head.lower_ in ("for", "on", "upon", "of")
            colon = duty_object and _colon_after(tok)   # a scan of the sentence: only if needed
            if duty_object and (cue or colon):
                noun = tok.head.head
                while noun.dep_ == "pobj" and noun.head.dep_ == "prep" and \
                        noun.lemma_.lower() not in DUTY_FOR_NOUNS:
                    noun = noun.head.head        # "a duty of care for vendors"
                lemma = noun.lemma_.lower()
                if lemma in DUTY_FOR_NOUNS and (tok.head.lower_ != "of" or lemma == "ask") \
                        and not _negated(noun.head):
                    for cc in _conjuncts(tok):
                        actors.update(self._keys(cc))
                        if colon:
                            self._header.update(self._keys(cc))

        # 9. explicit phrases (regex), good practice / need statements, "would help"
        if cue is None and _RE_EXPLICIT.search(text):
            cue = "explicit"
        if cue is None and _RE_RECO_NOUN.search(text):
            cue = "recommendation-noun"
        if cue is None and _RE_GOOD_PRACTICE.search(text):
            cue = "good-practice"
        if cue is None and _RE_WOULD.search(text):
            cue = "would-help"
        # 10. imperative: first word a base-form verb with no subject ("Establish a CERT ...")
        if cue is None:
            verb = self._imperative_verb(sent)
            if verb is not None:
                cue = "imperative"
                # "Require every municipal website to ...", "Ban the sale of ...": only a
                # legislator or regulator can do what the bullet asks
                if verb.lower_ in LEGAL_IMPERATIVES:
                    actors.add("government")
                    # "Require operators to keep a register ..." (tagged as a proper noun, so
                    # object control above did not read it)
                    if _object_then_to(verb):
                        for c in _has_child(verb, ("dobj",)):
                            for cc in _conjuncts(c):
                                actors.update(self._keys(cc))
        # 11. a bullet that is a noun phrase naming a measure ("Mandatory breach reporting ...")
        if cue is None:
            cue = _measure_fragment(sent)
            if cue and any(w.lower_ in DUTY_FRAGMENT_WORDS
                           for w in [sent.root, *sent.root.lefts]):
                # "Mandatory breach reporting for custodial wallet providers": who carries it
                for prep in sent.root.children:
                    if prep.dep_ == "prep" and prep.lower_ in ("for", "on", "upon", "by"):
                        for obj in _has_child(prep, ("pobj",)):
                            for cc in _conjuncts(obj):
                                # who carries the duty; "mandatory" still says a legislator
                                # imposes it (implicit addressee)
                                secondary.update(self._keys(cc))
        # 12. Spanish / French deontic forms
        if cue is None and _romance(text) and (_RE_ES.search(text) or _RE_FR.search(text)):
            cue = "es/fr"
        if cue is None:
            return None, actors
        return cue, actors | pending | secondary

    @staticmethod
    def _is_we_describing(subj, verb) -> bool:
        """'We must thank...' / 'we have to say' are not options."""
        return bool(subj) and all(s.lower_ in ("we", "i") for s in subj) and \
            verb.lemma_ in NON_OPTION_VERBS | {"say", "admit", "confess", "mention", "stress"}

    @staticmethod
    def _imperative(sent) -> str | None:
        found = RuleEngine._imperative_verb(sent)
        return "imperative" if found is not None else None

    @staticmethod
    def _imperative_verb(sent):
        """The verb that opens an imperative sentence or bullet, or None."""
        toks = [t for t in sent if not (t.is_punct or t.is_space or t.like_num or
                                        _RE_BULLET.fullmatch(t.text + " "))]
        # "Mentoring: pair every junior woman with ..." - look after a short label and colon
        colon = next((t for t in sent if t.text == ":" and t.i - sent.start <= 5), None)
        starts = [toks]
        if colon is not None:
            starts.append([t for t in toks if t.i > colon.i])
        for cand in starts:
            if len(cand) < 3:
                continue
            first = cand[0]
            if first.lower_ in NON_OPTION_IMPERATIVES or not (
                    first.text[:1].isupper() or cand is not toks):
                continue
            if _has_child(first, ("nsubj", "nsubjpass", "aux", "auxpass")):
                continue
            has_obj = bool(_has_child(first, ("dobj", "xcomp", "ccomp", "prt", "dative")))
            if first.dep_ == "ROOT" and has_obj and (first.tag_ == "VB" or
                                                     first.lower_ in IMPERATIVE_VERBS):
                return first
            if first.dep_ == "ROOT" and first.tag_ == "VB" and first.lower_ in IMPERATIVE_VERBS:
                return first
            # the tagger often reads a capitalised imperative as an adjective or a noun
            if first.lower_ in UNAMBIGUOUS_IMPERATIVES and not _has_child(first, ("nsubj",)):
                return first
        return None


# "a duty of care for X", "obligations on X", "good practice for X:", "recommendations to X".
DUTY_FOR_NOUNS = {"duty", "duties", "obligation", "obligations", "requirement", "requirements",
                  "responsibility", "responsibilities", "liability", "burden", "onus",
                  "practice", "practices", "recommendation", "recommendations", "checklist",
                  "ask", "asks", "expectation", "expectations", "rule", "rules"}
PROPOSAL_NOUNS = {"recommendation", "proposal", "suggestion", "ask", "request", "call",
                  "position", "view", "demand"}
# Agentless passives that only a legislator or regulator can perform ("should be required to").
LEGAL_PASSIVES = {"require", "oblige", "obligate", "mandate", "compel", "license", "licence",
                  "prohibit", "ban", "forbid", "bar"}
# "X stands ready to / offers to / commits to V": the actor takes the role on itself.
COMMIT_VERBS = {"stand", "offer", "commit", "pledge", "undertake", "volunteer", "be"}
# Verbless bullets that name a duty: "Mandatory breach reporting for X", "Obligations on X".
DUTY_FRAGMENT_WORDS = {"mandatory", "compulsory", "obligation", "obligations", "requirement",
                       "requirements", "duty", "duties", "liability"}
# "funding / guidance / support from X": X provides it.
SUPPORT_NOUNS = {"funding", "support", "guidance", "assistance", "investment", "commitment",
                 "leadership", "resources", "cooperation", "help", "financing", "grants",
                 "contributions", "co-operation", "engagement", "input", "backing"}
# "convene X", "bring together X": the participants of what is proposed.
CONVENE_VERBS = {"convene", "gather", "assemble"}
# "X are best / well / ideally placed to V".
PLACED_ADVERBS = {"well", "best", "better", "ideally", "uniquely", "perfectly", "particularly"}
# "the responsibility of X", "X's obligation to".
HOLDER_NOUNS = {"responsibility", "responsibilities", "duty", "duties", "obligation",
                "obligations", "onus", "burden", "task", "job"}
# Imperatives that only a legislator or regulator can carry out ("Require ...", "Ban ...").
LEGAL_IMPERATIVES = {"require", "mandate", "legislate", "enact", "ban", "prohibit", "outlaw",
                     "criminalise", "criminalize", "decriminalise", "decriminalize", "license",
                     "licence", "regulate", "ratify", "repeal", "amend"}
BENEFICIARY_VERBS = {"enable", "help", "allow", "assist", "empower", "permit", "let", "hold"}
# "X should have access / the right / recourse": what X is entitled to, not a duty. ("X must
# have a way to report" and "X should be able to audit" do give X a role: X is to act.)
ENTITLEMENT_NOUNS = {"right", "rights", "access", "recourse", "remedy", "remedies", "redress",
                     "protection", "protections", "choice", "choices", "guidance", "support",
                     "help", "assistance", "information", "say", "voice", "control",
                     "compensation", "safeguard", "safeguards", "guarantee", "guarantees"}
# Passive verbs whose subject still carries the duty ("vendors should be held accountable").
DUTY_PASSIVES = {"hold", "make"}
# Adjectives after "be" that describe what the subject is entitled to, not a duty.
ENTITLEMENT_ADJ = {"entitled", "allowed", "free", "protected", "informed", "safe",
                   "notified", "compensated", "consulted", "involved", "heard"}


def _object_then_to(verb) -> bool:
    """ "require operators to credit ...", when the parser lost the infinitive."""
    doc = verb.doc
    for c in _has_child(verb, ("dobj",)):
        nxt = c.right_edge.i + 1
        if nxt < len(doc) and doc[nxt].lower_ == "to" and doc[nxt].tag_ == "TO":
            return True
    return False


def _to_verb(verb) -> bool:
    """A base-form verb with "to": "to recognise"."""
    return verb.tag_ == "VB" and any(c.dep_ == "aux" and c.tag_ == "TO" for c in verb.children)


def _infinitive_in(noun) -> bool:
    """An infinitive hangs inside the noun's subtree ("partners who finance X to conduct")."""
    return any(t.i != noun.i and _to_verb(t) for t in noun.subtree)


def _colon_after(tok) -> bool:
    """A colon follows the token within its sentence, before any verb ("Good practice for asset
    owners, in order of priority: - ...", "What we ask of vendors selling into our market:")."""
    for t in tok.doc[tok.i + 1:tok.sent.end]:
        if t.text == ":":
            return True
        if t.pos_ in ("VERB", "AUX") and t.tag_ not in ("VBG", "VBN") and t.i > tok.i + 1:
            return False
    return False


def _negated(verb) -> bool:
    return any(c.dep_ == "neg" for c in verb.children) or (
        verb.dep_ == "xcomp" and any(c.dep_ == "neg" for c in verb.head.children))


def _beneficiary_object(tok) -> bool:
    """ "... allow victims to obtain ...": the object of a beneficiary verb."""
    head = tok.head.head if tok.dep_ == "nsubj" else tok.head
    return head.lemma_ in BENEFICIARY_VERBS


def _patient_subject(verb) -> bool:
    """A passive verb whose subject undergoes the action ("users should be told", "people
    must not be prosecuted"), unless it is a deontic passive ("are required to V") or a duty
    ("should be held accountable")."""
    if not _has_child(verb, ("auxpass", "nsubjpass")):
        return False
    if verb.lemma_ in PASSIVE_DEONTIC and any(c.dep_ in ("xcomp", "ccomp")
                                              for c in verb.children):
        return False
    if verb.lemma_ in DUTY_PASSIVES and not _negated(verb) and any(
            c.lower_ in ("accountable", "liable", "responsible", "answerable")
            for c in verb.subtree):
        return False
    return True


def _entitlement(verb) -> bool:
    """ "X must be able to ...", "X should have access / the right / a way to ...", "X should
    be protected": the subject is entitled, someone else carries the duty."""
    if verb.lemma_ == "be":
        return any(c.dep_ in ("acomp", "attr") and c.lemma_.lower() in ENTITLEMENT_ADJ
                   for c in verb.children)
    if verb.lemma_ in ("have", "get", "enjoy", "receive", "benefit", "obtain", "need"):
        return any(c.dep_ == "dobj" and c.lemma_.lower() in ENTITLEMENT_NOUNS
                   for c in verb.children) or verb.lemma_ in ("enjoy", "benefit")
    return False


def _main_clause(verb) -> bool:
    """True unless the verb sits in a relative, adverbial or reported clause."""
    v = verb
    while v.dep_ == "conj" and v.head is not v:
        v = v.head
    if v.dep_ in ("ROOT", "xcomp"):
        return True
    if v.dep_ == "ccomp":
        head = v.head
        if any(n.dep_ == "neg" for n in head.children):
            return False
        return head.lemma_ not in REPORTING_BAD
    if v.dep_ == "parataxis":
        return True
    if v.dep_ == "advcl" and v.head.i != v.i and not any(
            c.dep_ == "mark" or c.tag_ in ("WRB", "WDT", "WP") for c in v.children):
        # "supervisors should license X, exchanges should keep Y, and ...": a clause of a
        # list that the parser hung under the next one (no if/when/because to subordinate it)
        return _main_clause(v.head)
    if v.dep_ == "acl" and v.head.dep_ == "ROOT" and any(
            t.text == ":" for t in v.doc[v.head.i:v.i]):
        # "Recommendation: asset owners must stop relying on ..." (label, colon, clause)
        return True
    return False


_ROMANCE_WORDS = {"de", "la", "el", "los", "las", "les", "des", "que", "et", "y", "en", "le",
                  "une", "un", "una", "du", "del", "por", "para", "pour", "est", "es", "se",
                  "su", "sus", "leur", "leurs", "aux", "al", "dans", "con", "avec", "sur"}


def _romance(text: str) -> bool:
    """A cheap language check: enough Spanish/French function words."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return len(words) >= 3 and sum(w in _ROMANCE_WORDS for w in words) >= max(2, len(words) // 8)


def _passive(verb) -> bool:
    return bool(_has_child(verb, ("auxpass", "nsubjpass")))


def _reduced_participle(verb) -> bool:
    """ "a taxonomy developed by X", "..., developed jointly by X": a participle modifying what
    is proposed (not "whether committed by X", "can be detected by X", "used by X")."""
    return verb.tag_ == "VBN" and verb.dep_ in ("acl", "advcl") and \
        verb.lemma_ not in ("break", "use", "commit", "cause") and \
        not _has_child(verb, ("mark", "aux", "auxpass", "nsubj", "nsubjpass"))


def _in_relative_clause(tok) -> bool:
    """The token sits in a relative clause or a participle modifying a noun."""
    t = tok
    while t.head.i != t.i:
        if t.dep_ in ("relcl", "acl"):
            return True
        t = t.head
    return False


def _measure_fragment(sent) -> str | None:
    """A verbless bullet/line that names a measure: "Mandatory breach reporting for ..."."""
    words = [t for t in sent if t.is_alpha]
    if len(words) < 4 or len(words) > 60:
        return None
    if any(t.tag_ in ("VBZ", "VBP", "VBD", "MD") and not _in_relative_clause(t) for t in sent):
        return None              # a sentence, not a fragment ("... the rules that apply to banks")
    if sum(1 for t in sent if t.like_num) > 2:
        return None              # a table of contents, a list of figures
    lead = [t for t in sent if not (t.is_punct or t.is_space or t.like_num)]
    if not lead or lead[0].i != words[0].i:
        return None
    if sum(1 for w in words if w.text[:1].isupper()) > 0.6 * len(words):
        return None              # a title or a reference
    first = words[0].lower_
    if first in MEASURE_WORDS or words[0].lemma_.lower() in MEASURE_WORDS:
        return "measure-fragment"
    return None


ORG_NOUNS = {"organisation", "organization", "commission", "secretariat", "network",
             "association", "office", "council", "forum", "coalition", "alliance", "board",
             "agency", "federation", "union", "committee", "institute", "centre", "center",
             "foundation", "chamber", "group", "team", "consortium", "initiative"}
NEGATIVE_SUBJECTS = {"nobody", "none", "nothing", "noone", "neither"}
HELPING_VERBS = {"help", "contribute", "play", "support", "lead", "assist", "promote",
                 "encourage", "facilitate", "do", "take", "make", "provide", "ensure",
                 "strengthen", "work", "invest", "establish", "create", "develop", "adopt",
                 "publish", "fund", "launch", "set", "build", "introduce", "require",
                 "improve", "offer", "share", "train", "raise", "consider", "give", "supply",
                 "host", "run", "coordinate", "monitor", "act", "test", "fill", "bring",
                 "convene", "organise", "organize", "support", "push", "lobby", "review",
                 "check", "track", "report", "inform", "educate", "teach", "fix", "close"}


def _helping(verb) -> bool:
    """A verb that offers a part: "can help / lead / host ...", "can serve as a neutral
    partner", "can keep the dialogue going" (not "banks can serve millions of customers")."""
    if verb.lemma_ in HELPING_VERBS:
        return True
    if verb.lemma_ == "serve":
        return any(c.dep_ == "prep" and c.lower_ == "as" for c in verb.children)
    if verb.lemma_ == "keep":
        return any(c.dep_ in ("xcomp", "ccomp") for c in verb.children)
    return False


# Heads of reported clauses whose modal is not the writer's proposal ("asked which ... should").
REPORTING_BAD = {"ask", "wonder", "know", "explain", "understand", "doubt", "question",
                 "decide", "determine", "say", "tell", "show", "find", "learn", "see", "hear",
                 "read", "specify", "describe", "state", "discuss", "debate", "clarify",
                 "examine", "investigate", "report", "claim", "fear", "worry", "accept",
                 "remember", "forget", "note", "observe", "notice", "realise", "realize",
                 "reveal", "suggest_past", "admit", "deny", "check", "consider_past"}
MEASURE_WORDS = {"mandatory", "compulsory", "minimum", "clear", "fast", "faster", "regular",
                 "independent", "stronger", "greater", "better", "more", "increased",
                 "improved", "dedicated", "free", "accessible", "creation", "establishment",
                 "adoption", "introduction", "licensing", "certification", "inclusion",
                 "promotion", "funding", "provision", "strengthening", "harmonisation",
                 "harmonization", "reform", "mandating", "requiring", "publication",
                 "support", "training", "investment", "ban", "prohibition", "obligation",
                 "requirement", "requirements", "public", "transparent", "annual", "common",
                 "shared", "joint", "national", "legal", "stricter", "strict", "universal",
                 "default", "automatic", "secure", "timely", "tax", "incentives"}


# Verbs that open imperative bullets and are rarely a noun or adjective at a sentence start.
UNAMBIGUOUS_IMPERATIVES = {
    "install", "disable", "enable", "establish", "create", "develop", "adopt", "implement",
    "ensure", "promote", "strengthen", "encourage", "invest", "introduce", "provide",
    "improve", "raise", "foster", "facilitate", "enhance", "harmonise", "harmonize", "deploy",
    "enforce", "protect", "publish", "designate", "prioritise", "prioritize", "include",
    "integrate", "engage", "involve", "expand", "extend", "amend", "restrict", "prohibit",
    "abolish", "repeal", "incentivise", "incentivize", "encrypt", "organise", "organize",
    "apply", "avoid", "ratify", "recognise", "recognize", "regulate", "define", "guarantee",
    "allocate", "dedicate", "cooperate", "collaborate", "coordinate", "mainstream",
    "empower", "equip", "educate", "inform", "upgrade", "segment", "remove", "uphold",
    "refrain", "resist", "identify", "certify", "procure", "purchase", "subsidise",
    "subsidize", "recruit", "hire", "harden", "download", "choose", "require", "make",
    "pair", "enact", "legislate", "criminalise", "criminalize", "decriminalise", "simplify",
    "strengthen", "rethink", "reconsider", "revise", "adapt", "empower", "reach", "disclose",
    "notify", "verify", "validate", "authenticate", "sign", "filter", "block", "reject"}

# Verbs that commonly open an imperative recommendation bullet.
IMPERATIVE_VERBS = {
    "establish", "create", "develop", "adopt", "implement", "ensure", "promote", "strengthen",
    "support", "encourage", "build", "invest", "fund", "train", "require", "introduce", "set",
    "make", "provide", "improve", "increase", "raise", "foster", "facilitate", "enhance",
    "harmonise", "harmonize", "review", "update", "deploy", "enforce", "protect", "publish",
    "share", "designate", "mandate", "prioritise", "prioritize", "include", "integrate",
    "engage", "involve", "enable", "expand", "extend", "reform", "amend", "limit", "restrict",
    "ban", "prohibit", "abolish", "repeal", "incentivise", "incentivize", "encrypt", "audit",
    "monitor", "assess", "evaluate", "conduct", "organise", "organize", "launch", "use",
    "apply", "avoid", "stop", "end", "start", "begin", "commit", "join", "ratify", "sign",
    "recognise", "recognize", "treat", "regulate", "clarify", "define", "guarantee", "offer",
    "allocate", "dedicate", "cooperate", "collaborate", "coordinate", "work", "partner",
    "mainstream", "institutionalise", "institutionalize", "embed", "empower", "equip",
    "educate", "inform", "report", "test", "patch", "replace", "upgrade", "separate",
    "segment", "disable", "enable", "change", "remove", "hold", "give", "put", "bring",
    "support", "consult", "listen", "respect", "uphold", "refrain", "resist", "reject",
    "demand", "insist", "measure", "collect", "document", "map", "identify", "benchmark",
    "certify", "label", "procure", "purchase", "buy", "subsidise", "subsidize", "reward",
    "recruit", "hire", "mentor", "welcome", "open", "close", "secure", "harden", "back",
}
