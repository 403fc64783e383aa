"""Sample candidates' registrations, for tests, demos and benchmarks (never for real dossiers,
which the web builds from the pre-registration form)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain.campaign import Campaign
from domain.candidate import Address, Candidate, Registration

FIRST_NAMES = ["Maëlle", "Yann", "Nolwenn", "Erwan", "Soizic", "Gwenaël", "Anne", "Loïc", "Katell", "Ronan"]
LAST_NAMES = ["Le Goff", "Le Bihan", "Tanguy", "Guillou", "Le Gall", "Morvan", "Quéré", "Jaouen", "Le Roux", "Kerhervé"]


def registration(
    campaign: Campaign,
    number: str,
    index: int = 0,
    route: str = "externe",
    registered_at: datetime | None = None,
    **candidate,
) -> Registration:
    """The `index`-th sample candidate (index 0 is Madame Maëlle Le Goff); fields may be overridden."""
    fields: dict[str, Any] = {
        "civility": "Madame" if index % 2 == 0 else "Monsieur",
        "last_name": LAST_NAMES[index % len(LAST_NAMES)],
        "first_name": FIRST_NAMES[(index // len(LAST_NAMES)) % len(FIRST_NAMES)],
        "birth_date": date(1990 + index % 10, 1 + index % 12, 1 + index % 28),
        "email": f"{number.lower()}@example.fr",
        "address": Address("12 rue du Port", "56000", "Vannes"),
    }
    fields.update(candidate)
    return Registration(
        dossier_number=number,
        campaign=campaign,
        route=route,
        speciality=None,
        candidate=Candidate(**fields),
        registered_at=registered_at or datetime.now(UTC),
    )
