"""E-mail addresses: checked by email-validator, offline; IDN domains kept in ASCII form,
accented local parts refused; every refusal explained in French."""

from __future__ import annotations

import socket

import pytest

from domain.email_address import (
    ACCENTED_LOCAL_PART,
    INVALID,
    MISSING,
    NO_AT_SIGN,
    TOO_LONG,
    InvalidEmail,
    checked_email,
    normalised_email,
)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("maelle.legoff@example.fr", "maelle.legoff@example.fr"),
        ("  Maelle.LeGoff+concours@Example.FR \n", "Maelle.LeGoff+concours@example.fr"),  # domain in lower case
        ("jean@café.fr", "jean@xn--caf-dma.fr"),  # IDN domain: its ASCII form, routable everywhere
        ("o'brien@mairie-saint-étienne.fr", "o'brien@xn--mairie-saint-tienne-nzb.fr"),
        (f"{'a' * 64}@example.fr", f"{'a' * 64}@example.fr"),
    ],
)
def test_valid_addresses_are_kept_in_the_form_we_send_to(typed: str, kept: str) -> None:
    assert checked_email(typed) == kept
    assert normalised_email(typed) == kept


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", MISSING),
        ("   ", MISSING),
        ("maelle.example.fr", NO_AT_SIGN),
        ("foo<a@example.fr>", INVALID),  # accepted by the former hand-written pattern
        ("Maëlle <maelle@example.fr>", INVALID),
        ("maelle @example.fr", INVALID),
        ("maelle@example", INVALID),
        ("maelle@@example.fr", INVALID),
        ("a@b@example.fr", INVALID),
        ('"maelle le goff"@example.fr', INVALID),
        ("maelle@[192.0.2.1]", INVALID),
        ("maelle@localhost", INVALID),
        ("maelle@exemple.local", INVALID),
        ("maelle.@example.fr", INVALID),
        ("maelle@example.fr, autre@example.fr", INVALID),
        ("maelle@example.fr\r\nBcc: victime@example.fr", INVALID),
        (f"{'a' * 300}@example.fr", TOO_LONG),  # accepted by the former pattern
        (f"{'a' * 65}@example.fr", TOO_LONG),
        (f"maelle@{'d' * 61}.{'e' * 61}.{'f' * 61}.{'g' * 61}.fr", TOO_LONG),
        ("jérôme@example.fr", ACCENTED_LOCAL_PART),  # would need SMTPUTF8, which our relay may lack
        ("用户@例子.广告", ACCENTED_LOCAL_PART),
    ],
)
def test_invalid_addresses_are_refused_with_a_french_reason(typed: str, message: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        checked_email(typed)
    assert str(refused.value) == message
    assert normalised_email(typed) == typed.strip()


def test_no_dns_lookup_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline: a domain that does not exist passes the syntax check, without a resolver."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a DNS lookup was attempted")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert checked_email("maelle@domaine-qui-n-existe-pas-0f3a9c.fr") == "maelle@domaine-qui-n-existe-pas-0f3a9c.fr"
