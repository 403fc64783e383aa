"""Password hashing and signed session tokens.

Every argon2id parameter lives here (`HASHER`), and every hash the web computes — a login's
check, the decoy check for an unknown account, a pre-registration's hash, a reset's new hash —
runs through `HASHES`, one limiter per process sized from the CPU count: a surge of logins on
deadline night waits its turn in order instead of starting dozens of threads that fight for the
same cores (each check would then take as long as all of them together).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from zxcvbn import zxcvbn

from infra.in_order import InOrder
from infra.settings import available_cores, web_processes

# argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet: 19 MiB, 2 passes, one
# lane): about 50 ms per check on this busy 2-core host instead of 0.3 s for the library's
# default (64 MiB, t=3, p=4), so the two cores check about 40 logins a second instead of 7. A
# hash carries its own parameters: hashes made with other ones still verify, and are replaced
# at the next successful login (`check_password` says when; the login routes save it).
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
_hasher = HASHER  # the one the functions below use (the web tests swap in a cheaper one)

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class PasswordCheck:
    valid: bool
    # The password hashed with today's parameters, when it was valid against a hash made with
    # older ones: the caller saves it in place of the stored hash.
    rehashed: str | None = None


def check_password(password_hash: str, password: str) -> PasswordCheck:
    """Verify, and re-hash at once when the stored hash's parameters are not today's (one turn
    of the limiter for both)."""
    if not verify_password(password_hash, password):
        return PasswordCheck(valid=False)
    if _hasher.check_needs_rehash(password_hash):
        return PasswordCheck(valid=True, rehashed=_hasher.hash(password))
    return PasswordCheck(valid=True)


def hash_slots() -> int:
    """This process's share of the cores, in hashes at once (argon2 with p=1 uses one core each):
    the web processes sharing the port (`WEB_CONCURRENCY`, set by `devtools.run_local`) split
    the machine's cores between them, so a login surge never computes more hashes than cores."""
    return max(1, available_cores() // web_processes())


P = ParamSpec("P")
R = TypeVar("R")


class HashLimiter:
    """At most `slots` hashes computed at once, each in a worker thread, the others waiting in
    arrival order (`infra.in_order`)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._in_order = InOrder(slots)

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(*args)` in a thread once a slot is free (argon2 releases the GIL)."""
        async with self._in_order:
            return await asyncio.to_thread(fn, *args, **kwargs)


HASHES = HashLimiter(hash_slots())


# zxcvbn's score (0-4) a password needs: 3 is "safely unguessable" (about 10^8 guesses and more),
# the level its authors advise for accounts an online attacker could aim at. The estimator knows
# the common-password lists, dictionary words, names, keyboard rows, repeats, sequences and dates,
# and the personal details it is given (name, e-mail, birth date); no composition rule is kept
# beside it (NIST SP 800-63B: length and a blocklist, not "mix letters and digits").
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer inputs (its matching is quadratic); past this length only the first
# characters are estimated, which can only under-rate the password.
_ESTIMATED_LENGTH = 72

# zxcvbn's warnings (English, no French catalogue shipped) in French; anything else gets the
# general explanation.
_WARNINGS_FR = {
    "Straight rows of keys are easy to guess.": "une rangée de touches du clavier se devine facilement",
    "Short keyboard patterns are easy to guess.": "un motif de touches du clavier se devine facilement",
    'Repeats like "aaa" are easy to guess.': "une répétition comme « aaa » se devine facilement",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "une répétition comme « abcabcabc » se devine presque aussi vite que « abc »"
    ),
    'Sequences like "abc" or "6543" are easy to guess.': "une suite comme « abc » ou « 6543 » se devine facilement",
    "Recent years are easy to guess.": "une année récente se devine facilement",
    "Dates are often easy to guess.": "une date se devine souvent facilement",
    "This is a top-10 common password.": "c'est l'un des 10 mots de passe les plus utilisés",
    "This is a top-100 common password.": "c'est l'un des 100 mots de passe les plus utilisés",
    "This is a very common password.": "c'est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "un mot seul se devine facilement",
    "Names and surnames by themselves are easy to guess.": "un nom ou un prénom seul se devine facilement",
    "Common names and surnames are easy to guess.": "les noms et prénoms courants se devinent facilement",
}


# Words of this site that its users would reach for first (zxcvbn's dictionaries are English: it
# knows "password" but not « motdepasse »); given to the estimator as its docs advise.
SITE_WORDS = (
    "motdepasse",
    "concours",
    "inscription",
    "preinscription",
    "candidat",
    "candidate",
    "territorial",
    "fonctionpublique",
    "cdg",
    "azerty",
)


def personal_words(*details: str) -> list[str]:
    """What a password should not be built from: each detail and its words (« Le Goff » gives
    legoff, le, goff), an e-mail's local part, accents dropped so « Maëlle » matches maelle."""
    words: set[str] = set()
    for detail in details:
        folded = unicodedata.normalize("NFKD", detail).encode("ascii", "ignore").decode().lower()
        local = folded.split("@", 1)[0]
        for text in {folded, local}:
            parts = [p for p in re.split(r"[^a-z0-9]+", text) if p]
            words.update(parts)
            if parts:
                words.add("".join(parts))
    return sorted(w for w in words if len(w) >= 3) + list(SITE_WORDS)


def password_problem(password: str, personal: list[str] | tuple[str, ...] = ()) -> str | None:
    """A French reason the password is too weak, or None. `personal`: the account holder's name,
    e-mail, birth date, login…, which a password must not merely rearrange.

    zxcvbn keeps its user inputs in a module-level table while it runs: call this on the event
    loop or a single thread, never from several threads at once."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
    estimate = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=personal_words(*personal))
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    why = _WARNINGS_FR.get(estimate["feedback"]["warning"])
    because = f" : {why}" if why else ""
    return (
        f"Ce mot de passe est trop facile à deviner{because}. Les mots de passe courants, les mots "
        "du dictionnaire, les suites de touches et ceux qui reprennent votre nom, votre prénom, "
        "votre adresse e-mail ou une date sont refusés. Choisissez par exemple plusieurs mots "
        "sans rapport entre eux, séparés par des tirets."
    )


@dataclass(frozen=True)
class SessionClaim:
    """What a valid session token says: who ("candidate:<n°>", "staff:<login>"), which password
    they logged in with (a fingerprint of the account's hash at that moment), which session this
    is (a random id, what logout revokes and what CSRF tokens are bound to), when it was opened
    (the absolute limit) and when the token was last signed (a staff session's last activity)."""

    subject: str
    password_fingerprint: str
    session_id: str
    issued_at: int
    signed_at: int


class SessionTokens:
    """Signed, expiring tokens naming who is logged in, bound to the account's password.

    The token carries a short keyed fingerprint of the account's password hash (never the hash
    itself). Every authenticated request compares it with the account's current hash, so a
    password change (reset link, staff `set-password`) ends every session opened before it.

    A re-hash at login (new argon2 parameters) changes the hash too: the session that login
    opens is bound to the new hash, and the account's other open sessions end, once, at the
    first login after a parameter change. Kept so on purpose: one rule ("valid while the hash is
    the one it was opened with") is easy to trust, and keeping them would need a second notion
    of "the same password" beside the hash. Change the parameters away from a deadline.

    Each token names a random session id: logout writes it to the shared database's revoked
    sessions (`infra.database.RevokedSession`), so a copied token dies with the logout in every
    web process. The token stays stateless otherwise (no write at login, on deadline night).
    A session lasts `max_age` from its opening whatever happens; staff tokens are re-signed as
    they are used (`refresh`), and refused once unused for longer than their idle limit.
    """

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="session")
        self._fingerprint_key = hashlib.sha256(b"session-password-fingerprint|" + secret.encode()).digest()
        self.max_age = max_age_seconds

    def fingerprint(self, password_hash: str) -> str:
        """16 hex characters of an HMAC-SHA256 of the hash: tells hashes apart, reveals nothing."""
        return hmac.new(self._fingerprint_key, password_hash.encode(), hashlib.sha256).hexdigest()[:16]

    def issue(self, subject: str, password_hash: str) -> str:
        """A new session's token (a new session id, opened now)."""
        return self._serializer.dumps(
            [subject, self.fingerprint(password_hash), secrets.token_hex(16), int(time.time())]
        )

    def refresh(self, claim: SessionClaim) -> str:
        """The same session signed again now: its idle time starts over, its absolute end stays."""
        return self._serializer.dumps([claim.subject, claim.password_fingerprint, claim.session_id, claim.issued_at])

    def read(self, token: str, idle_seconds: int | None = None) -> SessionClaim | None:
        """The token's claim if its signature is good, the session opened less than `max_age` ago
        and (with `idle_seconds`) used within that time; the password and revocation are checked
        by the caller against the database (`still_valid`, `infra.database.is_revoked`)."""
        claim = self._claim(token)
        if claim is None:
            return None
        now = time.time()
        if now - claim.issued_at > self.max_age or now - claim.signed_at > self.max_age:
            return None
        if idle_seconds is not None and now - claim.signed_at > idle_seconds:
            return None
        return claim

    def session_id(self, token: str | None) -> str:
        """The session id of a well-signed token, expired or not ("" otherwise): what CSRF tokens
        are bound to, so a form keeps working exactly as long as the cookie it was shown with."""
        claim = self._claim(token) if token else None
        return claim.session_id if claim else ""

    def _claim(self, token: str) -> SessionClaim | None:
        try:
            payload, signed_at = self._serializer.loads(token, return_timestamp=True)
        except BadSignature:  # also a bad timestamp (SignatureExpired is a BadSignature)
            return None
        # Tokens of earlier formats (a bare subject, or no session id) cannot be revoked: refused.
        if not (
            isinstance(payload, list)
            and len(payload) == 4
            and all(isinstance(p, str) for p in payload[:3])
            and type(payload[3]) is int
        ):
            return None
        return SessionClaim(
            subject=payload[0],
            password_fingerprint=payload[1],
            session_id=payload[2],
            issued_at=payload[3],
            signed_at=int(signed_at.timestamp()),
        )

    def still_valid(self, claim: SessionClaim, current_password_hash: str) -> bool:
        """Whether the account's password is still the one the session was opened with."""
        return hmac.compare_digest(claim.password_fingerprint, self.fingerprint(current_password_hash))
