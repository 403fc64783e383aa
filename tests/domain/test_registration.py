"""Who may pre-register when, on which route, and when a registration replaces an earlier one."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.campaign import Campaign, DocumentCategory, Route
from domain.candidate import Address, Candidate
from domain.email_address import INVALID, NO_AT_SIGN
from domain.registration import (
    Registrant,
    RegistrationClosed,
    RegistrationRefused,
    check_preregistration,
    dossier_number,
    person_key,
    unique_number_prefix,
)
from tests.factories import campaign

NOW = datetime(2026, 10, 27, 15, 30, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def session(**overrides) -> Campaign:
    c = campaign(now=NOW, grade="Rédacteur territorial", **overrides)
    c.routes.append(
        Route(
            "troisieme",
            "Troisième concours",
            [DocumentCategory("cv", "Curriculum vitae", 1)],
            ["Administration générale", "Urbanisme"],
        )
    )
    return c


def maelle(**overrides) -> Candidate:
    candidate = Candidate(
        civility="Madame",
        last_name="Le Goff",
        first_name="Maëlle",
        birth_date=date(1994, 5, 17),
        email="maelle@example.fr",
        address=Address("12 rue du Port", "56000", "Vannes"),
    )
    address = {k: overrides.pop(k) for k in ("line1", "postal_code", "city") if k in overrides}
    return dataclasses.replace(candidate, address=dataclasses.replace(candidate.address, **address), **overrides)


def check(
    c: Campaign,
    now: datetime = NOW,
    route: str = "externe",
    speciality: str | None = None,
    candidate: Candidate | None = None,
) -> None:
    check_preregistration(c, route, speciality, candidate or maelle(), now)


# ----------------------------------------------------------------------------- when
def test_a_campaign_takes_pre_registrations_from_its_opening_to_its_closing_included() -> None:
    c = session()
    check(c, c.registration_opens_at)
    check(c, c.registration_closes_at)


def test_before_the_opening_the_campaign_is_not_yet_open() -> None:
    c = session()
    with pytest.raises(
        RegistrationClosed, match=r"^Les préinscriptions à cette session ne sont pas encore ouvertes\.$"
    ):
        check(c, c.registration_opens_at - SECOND)


def test_after_the_closing_the_campaign_is_closed() -> None:
    c = session()
    with pytest.raises(RegistrationClosed, match=r"^Les préinscriptions à cette session sont closes\.$"):
        check(c, c.registration_closes_at + SECOND)


def test_the_window_is_the_one_campaign_lists_show() -> None:
    c = session()
    for now in (
        c.registration_opens_at - SECOND,
        c.registration_opens_at,
        c.registration_closes_at,
        c.registration_closes_at + SECOND,
    ):
        try:
            check(c, now)
            taken = True
        except RegistrationClosed:
            taken = False
        assert taken is c.is_open_for_registration(now)


# ----------------------------------------------------------------------------- what
@pytest.mark.parametrize(
    ("route", "speciality", "message"),
    [
        ("militaire", None, "Voie d'accès inconnue pour cette session."),
        ("troisieme", None, "Choisissez une spécialité proposée pour cette voie."),
        ("troisieme", "Voirie", "Choisissez une spécialité proposée pour cette voie."),
        ("externe", "Urbanisme", "Cette voie ne propose pas de spécialité."),
    ],
)
def test_a_route_of_the_campaign_with_one_of_its_specialities_if_it_has_some(
    route: str, speciality: str | None, message: str
) -> None:
    with pytest.raises(RegistrationRefused) as refused:
        check(session(), route=route, speciality=speciality)
    assert str(refused.value) == message and not isinstance(refused.value, RegistrationClosed)


def test_a_route_with_specialities_takes_one_of_them() -> None:
    check(session(), route="troisieme", speciality="Urbanisme")


def test_the_window_is_checked_before_the_route() -> None:
    c = session()
    with pytest.raises(RegistrationClosed):
        check(c, c.registration_closes_at + SECOND, route="militaire")


# ----------------------------------------------------------------------------- who
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "maelle.example.fr"}, re.escape(NO_AT_SIGN)),
        ({"email": "maelle @example.fr"}, re.escape(INVALID)),
        ({"email": "foo<a@example.fr>"}, re.escape(INVALID)),
        ({"birth_date": NOW.date()}, "Date de naissance invalide."),
        ({"last_name": " "}, "Le nom est obligatoire."),
        ({"first_name": ""}, "Le prénom est obligatoire."),
        ({"line1": ""}, "L'adresse est obligatoire."),
        ({"postal_code": ""}, "Le code postal est obligatoire."),
        ({"city": " "}, "La ville est obligatoire."),
    ],
)
def test_the_candidate_gives_an_e_mail_a_past_birth_date_a_name_and_an_address(change: dict, message: str) -> None:
    with pytest.raises(RegistrationRefused, match=f"^{message}$"):
        check(session(), candidate=maelle(**change))


# ----------------------------------------------------------------------------- the same person
def test_the_same_person_whatever_accents_case_or_spacing() -> None:
    assert person_key("Le Goff", "Maëlle", date(1994, 5, 17)) == person_key(" LEGOFF ", "maelle", date(1994, 5, 17))
    assert person_key("Le Goff", "Maëlle", date(1994, 5, 17)) == "legoff|maelle|1994-05-17"


def test_another_birth_date_or_first_name_is_another_person() -> None:
    key = person_key("Le Goff", "Maëlle", date(1994, 5, 17))
    assert key != person_key("Le Goff", "Maëlle", date(1994, 5, 18))
    assert key != person_key("Le Goff", "Gaëlle", date(1994, 5, 17))


def test_a_later_registration_for_the_same_grade_replaces_the_earlier_even_in_another_campaign() -> None:
    first, second = session(), session()
    assert first.id != second.id
    assert Registrant.of(first, maelle()) == Registrant.of(second, maelle(last_name="LE GOFF", first_name="Maelle"))


def test_a_registration_for_another_grade_replaces_nothing() -> None:
    other = campaign(now=NOW, grade="Attaché territorial")
    assert Registrant.of(session(), maelle()) != Registrant.of(other, maelle())


def test_a_dossier_number_is_the_campaign_code_in_capitals_and_a_five_digit_sequence() -> None:
    assert dossier_number(session(id="red-2027"), 42) == "RED2027-00042"
    assert dossier_number(session(id="redacteur-territorial-2027"), 1) == "REDACTEURT-00001"


def test_a_new_campaign_whose_id_shares_ten_characters_with_another_gets_its_own_prefix() -> None:
    first = unique_number_prefix("attache-2027", set())
    second = unique_number_prefix("attache-2028", {first})
    assert first == "ATTACHE202"
    assert second == "ATTACH2028"  # the head and the tail that tells them apart
    third = unique_number_prefix("attache-2028", {first, second, "ATTACH028", "ATTACHE028"})
    assert third not in {first, second} and len(third) <= 10
    crowded = {"ABC"} | {f"ABC{n:03d}" for n in range(2, 10)}
    assert unique_number_prefix("abc", crowded) == "ABC010"


def test_a_campaign_keeps_the_prefix_chosen_at_its_creation() -> None:
    chosen = session(id="attache-2028", number_prefix="ATTACH2028")
    assert dossier_number(chosen, 7) == "ATTACH2028-00007"
