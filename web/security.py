"""Password hashing and signed session tokens."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A French reason the password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
    if password.isdigit() or password.isalpha():
        return "Le mot de passe doit mêler lettres et chiffres ou symboles."
    return None


@dataclass(frozen=True)
class SessionClaim:
    """What a valid session token says: who ("candidate:<n°>", "staff:<login>") and which
    password they logged in with (a fingerprint of the account's hash at that moment)."""

    subject: str
    password_fingerprint: str


class SessionTokens:
    """Signed, expiring tokens naming who is logged in, bound to the account's password.

    The token carries a short keyed fingerprint of the account's password hash (never the hash
    itself). Every authenticated request compares it with the account's current hash, so a
    password change (reset link, staff `set-password`) ends every session opened before it.
    """

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="session")
        self._fingerprint_key = hashlib.sha256(b"session-password-fingerprint|" + secret.encode()).digest()
        self.max_age = max_age_seconds

    def fingerprint(self, password_hash: str) -> str:
        """16 hex characters of an HMAC-SHA256 of the hash: tells hashes apart, reveals nothing."""
        return hmac.new(self._fingerprint_key, password_hash.encode(), hashlib.sha256).hexdigest()[:16]

    def issue(self, subject: str, password_hash: str) -> str:
        return self._serializer.dumps([subject, self.fingerprint(password_hash)])

    def read(self, token: str) -> SessionClaim | None:
        """The token's claim if its signature is good and it has not expired (the password is
        checked by `still_valid`, against the account row)."""
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        # Tokens of the earlier format (a bare subject) carry no fingerprint: refused.
        if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
            return None
        return SessionClaim(subject=payload[0], password_fingerprint=payload[1])

    def still_valid(self, claim: SessionClaim, current_password_hash: str) -> bool:
        """Whether the account's password is still the one the session was opened with."""
        return hmac.compare_digest(claim.password_fingerprint, self.fingerprint(current_password_hash))
