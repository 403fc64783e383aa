"""Pre-registration rules: who may pre-register for a campaign, when, on which route and speciality,
and when a new registration replaces an earlier one.

A person registers once per grade: a later registration of the same person (whatever accents,
case or spacing they type this time) for the same grade — in the same campaign or another one —
replaces the earlier dossier (`Registrant`). The web layer reads the form, stores the account and
starts the workflow; it asks these functions whether to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from domain.campaign import Campaign
from domain.candidate import Candidate
from domain.email_address import InvalidEmail, checked_email


class RegistrationRefused(ValueError):
    """A pre-registration that cannot be taken as typed; the French message says why."""


class RegistrationClosed(RegistrationRefused):
    """The campaign takes no pre-registration at this instant: not yet open, or closed."""


def check_registration_window(campaign: Campaign, now: datetime) -> None:
    if campaign.is_open_for_registration(now):
        return
    if now < campaign.registration_opens_at:
        raise RegistrationClosed("Les préinscriptions à cette session ne sont pas encore ouvertes.")
    raise RegistrationClosed("Les préinscriptions à cette session sont closes.")


def check_route(campaign: Campaign, route_code: str, speciality: str | None) -> None:
    """A route of the campaign; one of its specialities if it offers some, none otherwise."""
    route = campaign.route(route_code)
    if route is None:
        raise RegistrationRefused("Voie d'accès inconnue pour cette session.")
    if route.specialities and speciality not in route.specialities:
        raise RegistrationRefused("Choisissez une spécialité proposée pour cette voie.")
    if not route.specialities and speciality:
        raise RegistrationRefused("Cette voie ne propose pas de spécialité.")


def check_candidate(candidate: Candidate, now: datetime) -> None:
    """What the candidate must give: a plausible e-mail, a past birth date, name and address."""
    try:
        checked_email(candidate.email)
    except InvalidEmail as invalid:
        raise RegistrationRefused(str(invalid)) from None
    if candidate.birth_date >= now.date():
        raise RegistrationRefused("Date de naissance invalide.")
    for label, value in (
        ("Le nom", candidate.last_name),
        ("Le prénom", candidate.first_name),
        ("L'adresse", candidate.address.line1),
        ("Le code postal", candidate.address.postal_code),
        ("La ville", candidate.address.city),
    ):
        if not value.strip():
            raise RegistrationRefused(f"{label} est obligatoire.")


def check_preregistration(
    campaign: Campaign, route_code: str, speciality: str | None, candidate: Candidate, now: datetime
) -> None:
    """Every rule above, in the order a person reads the refusals: when, what, who."""
    check_registration_window(campaign, now)
    check_route(campaign, route_code, speciality)
    check_candidate(candidate, now)


def person_key(last_name: str, first_name: str, birth_date: date) -> str:
    """The same person whatever the accents, case or spacing they typed this time."""

    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", text.lower())

    return f"{fold(last_name)}|{fold(first_name)}|{birth_date.isoformat()}"


@dataclass(frozen=True)
class Registrant:
    """Who registers, for which grade: two registrations with equal registrants are the same
    person for the same grade, and the later replaces the earlier."""

    grade: str
    person_key: str

    @classmethod
    def of(cls, campaign: Campaign, candidate: Candidate) -> Registrant:
        return cls(campaign.grade, person_key(candidate.last_name, candidate.first_name, candidate.birth_date))


PREFIX_LENGTH = 10


def _code(campaign_id: str) -> str:
    """The campaign id in capitals and digits only."""
    return re.sub(r"[^A-Z0-9]", "", campaign_id.upper()) or "SESSION"


def derived_number_prefix(campaign_id: str) -> str:
    """The prefix of campaigns created before prefixes were chosen: the id's first 10 capitals
    and digits (`attache-2027` and `attache-2028` both give ATTACHE202, hence the choice below)."""
    return _code(campaign_id)[:PREFIX_LENGTH]


def unique_number_prefix(campaign_id: str, taken: set[str]) -> str:
    """A prefix for a new campaign that no other campaign's dossier numbers use: the derived one
    if free, else the id's head with its tail (`attache-2028` → ATTACH2028, the part that tells
    campaigns apart usually ends the id), else the head with a counter."""
    code = _code(campaign_id)
    head = code[:PREFIX_LENGTH]
    candidates = [head]
    if len(code) > PREFIX_LENGTH:
        candidates += [code[: PREFIX_LENGTH - k] + code[-k:] for k in (4, 3, 2, 1, 5, 6, 7, 8, 9)]
    candidates += [code[: PREFIX_LENGTH - 3] + f"{n:03d}" for n in range(2, 1000)]
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    raise ValueError("no free dossier number prefix")  # a thousand campaigns sharing one head


def number_prefix(campaign: Campaign) -> str:
    return campaign.number_prefix or derived_number_prefix(campaign.id)


def dossier_number(campaign: Campaign, sequence: int) -> str:
    """« RED2027-00042 »: the campaign's prefix (capitals and digits only), then the sequence."""
    return f"{number_prefix(campaign)}-{sequence:05d}"
