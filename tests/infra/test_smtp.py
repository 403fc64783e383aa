"""Which SMTP failures set a mail aside (refused for good) and which are retried."""

from __future__ import annotations

import aiosmtplib
import pytest

from infra.smtp import permanent_refusal

UNKNOWN = aiosmtplib.SMTPRecipientRefused(550, "5.1.1 User unknown", "x@example.fr")
GREYLISTED = aiosmtplib.SMTPRecipientRefused(451, "4.7.1 Try again later", "x@example.fr")


def test_an_unknown_mailbox_is_refused_for_good_with_the_servers_reply() -> None:
    assert permanent_refusal(aiosmtplib.SMTPRecipientsRefused([UNKNOWN])) == "550 5.1.1 User unknown"


def test_a_message_refused_after_data_is_refused_for_good() -> None:
    assert permanent_refusal(aiosmtplib.SMTPDataError(554, "5.7.1 Rejected")) == "554 5.7.1 Rejected"


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPRecipientsRefused([GREYLISTED]),
        aiosmtplib.SMTPDataError(451, "4.3.0 Temporarily unavailable"),
        aiosmtplib.SMTPConnectError("Connection refused"),
        aiosmtplib.SMTPServerDisconnected("gone"),
        ConnectionRefusedError(111, "Connection refused"),
        # Our own configuration, the same for every mail: retried until an operator acts.
        aiosmtplib.SMTPSenderRefused(550, "5.7.1 Sender rejected", "concours@cdg.example.fr"),
        aiosmtplib.SMTPAuthenticationError(535, "5.7.8 Bad credentials"),
    ],
    ids=["greylisted", "data-4xx", "connect", "disconnected", "oserror", "sender-refused", "auth"],
)
def test_passing_troubles_and_our_own_configuration_are_retried(error: Exception) -> None:
    assert permanent_refusal(error) is None
