"""Visibility queries over the dossiers' search attributes: staff lists and bulk actions.

Pure string building, shared by the web layer and the activities. Values never reach a query
unchecked: codes must look like codes, and a name search is split into words (the dev server's
Text attributes match whole words, accent- and case-insensitively), so no quote can get in.
The server (1.29) accepts GROUP BY on ExecutionStatus only: counts per status take one count
query each (see `status_count_queries`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.status import Status
from workflows import names

_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER_LIKE = re.compile(r"^[A-Za-z0-9\-]+$")


class BadQueryValue(ValueError):
    pass


def literal(value: str) -> str:
    """A quoted code; anything that is not a plain code is refused rather than escaped."""
    if not _CODE.match(value):
        raise BadQueryValue(f"not a code: {value!r}")
    return f"'{value}'"


@dataclass
class DossierFilter:
    campaign_id: str | None = None
    statuses: list[Status] = field(default_factory=list)
    route: str | None = None
    search: str = ""  # a name, or (part of the start of) a dossier number
    running_only: bool = False


def looks_like_number(text: str) -> bool:
    """Letters, digits and dashes with at least one digit: the start of a dossier number."""
    return bool(_NUMBER_LIKE.match(text.strip())) and any(ch.isdigit() for ch in text)


def dossier_query(f: DossierFilter) -> str:
    clauses = [f"WorkflowType = {literal(names.DOSSIER_WORKFLOW)}"]
    if f.campaign_id:
        clauses.append(f"{names.CAMPAIGN.name} = {literal(f.campaign_id)}")
    if f.statuses:
        clauses.append(f"{names.STATUS.name} IN ({', '.join(literal(str(s)) for s in f.statuses)})")
    if f.route:
        clauses.append(f"{names.ROUTE.name} = {literal(f.route)}")
    if f.running_only:
        clauses.append("ExecutionStatus = 'Running'")
    search = f.search.strip()
    if search:
        if looks_like_number(search):
            clauses.append(f"{names.DOSSIER_NUMBER.name} STARTS_WITH {literal(search.upper())}")
        else:
            # Every word must match (the server ORs the words of one Text comparison).
            for word in _WORD.findall(search)[:6]:
                clauses.append(f"{names.CANDIDATE_NAME.name} = '{word}'")
    return " AND ".join(clauses)


def status_count_queries(f: DossierFilter) -> dict[Status, str]:
    """One count query per status, the rest of the filter kept (GROUP BY is not supported)."""
    base = DossierFilter(f.campaign_id, [], f.route, f.search, f.running_only)
    return {s: dossier_query(DossierFilter(**{**base.__dict__, "statuses": [s]})) for s in Status}


def validated_since_query(campaign_id: str, since: datetime) -> str:
    """A campaign's dossiers validated at or after `since` (the operators' live view)."""
    at = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"WorkflowType = {literal(names.DOSSIER_WORKFLOW)} AND {names.CAMPAIGN.name} = {literal(campaign_id)}"
        f" AND {names.VALIDATED_AT.name} >= {literal(at)}"
    )


def batches_query(campaign_id: str) -> str:
    return f"WorkflowType = {literal(names.BATCH_WORKFLOW)} AND {names.CAMPAIGN.name} = {literal(campaign_id)}"


def campaign_workflows_queries(campaign_id: str) -> list[str]:
    """Every workflow that holds data of a campaign's candidates: its dossiers and bulk actions
    (CampaignId), and its campaign-wide changes (whose activities listed its dossiers)."""
    prefixes = names.campaign_workflow_prefixes(campaign_id)
    return [
        f"{names.CAMPAIGN.name} = {literal(campaign_id)}",
        *(f"WorkflowId STARTS_WITH {literal(prefix)}" for prefix in prefixes),
    ]
