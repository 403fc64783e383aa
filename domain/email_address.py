"""Which e-mail addresses we take, and in which form we keep them.

The syntax is checked by `email-validator` (RFC 5321/5322 as mail servers apply them), never by
a hand-written pattern, and offline: no DNS lookup (a pre-registration must not wait on, nor
fail with, a resolver; a mistyped domain shows up as a refused mail instead).

Internationalised addresses, decided so:
- a domain in any script (`jean@café.fr`) is accepted, and kept in its ASCII form
  (`jean@xn--caf-dma.fr`, IDNA), which every mail server routes without extension;
- accented or non-Latin characters before the « @ » are refused with a French explanation:
  such a mailbox can only be reached through SMTPUTF8, which aiosmtplib uses only if our relay
  offers it (`SMTPNotSupported` otherwise), so every mail to it could be lost.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

# RFC 5321: 64 characters before the « @ », 254 in all (what a mail server accepts).
MAX_LOCAL_PART = 64
MAX_LENGTH = 254

MISSING = "Indiquez votre adresse e-mail."
NO_AT_SIGN = "L'adresse e-mail doit comporter un « @ », par exemple prenom.nom@exemple.fr."
TOO_LONG = (
    f"L'adresse e-mail est trop longue : {MAX_LOCAL_PART} caractères au plus avant le « @ », {MAX_LENGTH} en tout."
)
ACCENTED_LOCAL_PART = (
    "Les lettres accentuées ou non latines ne sont pas acceptées avant le « @ » : nos messages "
    "pourraient ne pas vous parvenir. Indiquez une autre adresse (les accents sont acceptés "
    "dans le nom de domaine, après le « @ »)."
)
INVALID = (
    "Adresse e-mail invalide : indiquez une seule adresse, de la forme prenom.nom@exemple.fr, "
    "sans espace, sans nom ni chevrons autour."
)


class InvalidEmail(ValueError):
    """An address we cannot take; the message says why, in French, for the person typing it."""


def checked_email(text: str) -> str:
    """The address to keep and send to (its domain in ASCII form), or `InvalidEmail`."""
    address = text.strip()
    if not address:
        raise InvalidEmail(MISSING)
    if "@" not in address:
        raise InvalidEmail(NO_AT_SIGN)
    local, _, _ = address.rpartition("@")
    if len(local) > MAX_LOCAL_PART or len(address) > MAX_LENGTH:
        raise InvalidEmail(TOO_LONG)
    if not local.isascii() and "<" not in address:
        raise InvalidEmail(ACCENTED_LOCAL_PART)
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidEmail(INVALID) from None
    # `ascii_email` is set whenever the local part is ASCII, which allow_smtputf8=False ensures.
    assert valid.ascii_email is not None
    if len(valid.ascii_email) > MAX_LENGTH:  # an IDN domain grows in its ASCII form
        raise InvalidEmail(TOO_LONG)
    return valid.ascii_email


def normalised_email(text: str) -> str:
    """`checked_email`'s form when the address is valid, the trimmed text otherwise (the check
    then refuses it with its message)."""
    try:
        return checked_email(text)
    except InvalidEmail:
        return text.strip()
