"""Who registers, and what they entered at pre-registration."""

from dataclasses import dataclass
from datetime import date, datetime

from domain.campaign import Campaign


@dataclass
class Address:
    line1: str
    postal_code: str
    city: str
    line2: str = ""
    country: str = "France"


@dataclass
class Candidate:
    civility: str  # "Madame" / "Monsieur"
    last_name: str
    first_name: str
    birth_date: date
    email: str
    address: Address
    phone: str = ""
    # Confidentiality option of the form: may the name appear on published result lists.
    publish_name: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"


@dataclass
class Registration:
    """What the candidate entered at pre-registration; read-only afterwards."""

    dossier_number: str
    campaign: Campaign
    route: str
    speciality: str | None
    candidate: Candidate
    registered_at: datetime
    replaces: str | None = None  # the earlier dossier for the same grade, if any
