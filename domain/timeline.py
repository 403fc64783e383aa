"""The dossier's history as the candidate and staff read it."""

from dataclasses import dataclass
from datetime import datetime


@dataclass
class TimelineEntry:
    at: datetime
    code: str
    text: str
