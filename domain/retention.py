"""How long a campaign's personal data is kept, and when it is due for purge (RGPD).

A campaign keeps its candidates' data for its `retention` period after its last result. The
last result is the last event any of its dossiers recorded (a result, its letter, a late
certificate), and never earlier than the campaign's own end (the last exam, or the end of the
upload period when it has no exam): a campaign whose results are not all in yet is not over.

Default: two years. The CNIL's guidance on recruitment data (référentiel « recrutement », 2023)
keeps an unsuccessful candidate's data at most two years after the last contact; two years
also covers the two-month window for a recours contentieux against the results and the appeals
that may follow. A centre may choose longer or shorter per campaign, never below
`MIN_RETENTION` (92 days: the two-month recours window plus a month's margin). What the law
keeps for longer (the jury's minutes, the list of laureates) belongs to the centre's archives,
not to this candidate space.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.campaign import MIN_RETENTION, RETENTION, Campaign

DEFAULT_RETENTION = RETENTION
__all__ = ["DEFAULT_RETENTION", "MIN_RETENTION", "campaign_end", "purge_due_at", "retention_fr"]


def campaign_end(campaign: Campaign) -> datetime:
    """The campaign's last planned instant: its last exam, or the end of the upload period."""
    planned = [campaign.validation_deadline + campaign.upload_grace, *(e.starts_at for e in campaign.exams)]
    return max(planned)


def purge_due_at(campaign: Campaign, last_event: datetime | None) -> datetime:
    """When the campaign's personal data must be purged, its dossiers' last event being
    `last_event` (None when it has no dossier)."""
    end = campaign_end(campaign)
    return max(end, last_event or end) + campaign.retention


def retention_fr(retention: timedelta) -> str:
    """« 2 ans », « 18 mois », « 100 jours »."""
    days = retention.days
    if days and days % 365 == 0:
        years = days // 365
        return f"{years} an{'s' if years > 1 else ''}"
    if days and days % 30 == 0:
        return f"{days // 30} mois"
    return f"{days} jour{'s' if days > 1 else ''}"
