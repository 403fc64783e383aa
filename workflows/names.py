"""Names shared by the workflows, the worker, the web layer and the tests.

Workflow IDs, task queue, message names and search attribute keys live here only, so the web
and the workflow cannot drift apart. Nothing here does I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.status import Status

if TYPE_CHECKING:
    from domain.candidate import Registration

TASK_QUEUE = "inscriptions"

DOSSIER_WORKFLOW = "DossierWorkflow"
CAMPAIGN_DEADLINE_WORKFLOW = "CampaignDeadlineWorkflow"
CAMPAIGN_EXAMS_WORKFLOW = "CampaignExamsWorkflow"
BATCH_WORKFLOW = "BatchWorkflow"
PURGE_WORKFLOW = "PurgeWorkflow"

# Candidate updates (the caller needs an accept/refuse answer).
VALIDATE = "validate"
RECORD_UPLOAD = "record_upload"
WITHDRAW = "withdraw"
CHANGE_ADDRESS = "change_address"
CHANGE_EMAIL = "change_email"  # once the candidate confirmed the new address by its link
# Staff updates.
DECIDE = "decide"
DEPOSIT_DOCUMENT = "deposit_document"
RECORD_RESULT = "record_result"
ISSUE_LETTER = "issue_letter"
# Signals (no answer needed: the sender cannot do anything with a refusal).
REPLACED_BY = "replaced_by"
EXTEND_DEADLINE = "extend_deadline"
AMEND_EXAMS = "amend_exams"
ARCHIVE = "archive"
# Queries.
VIEW = "view"
SUMMARY = "summary"  # what the candidate's pages show, at the caller's instant
PENDING_LETTERS = "pending_letters"
# Activities, called by name so workflow modules never import their I/O libraries.
SEND_MAIL = "send_mail"
PRINT_LETTER = "print_letter"
# ApplicationError type of `send_mail` when the server refused the mail for good (SMTP 5xx).
MAIL_REFUSED = "MailRefused"
SIGNAL_DEADLINE_EXTENSION = "signal_deadline_extension"
SIGNAL_EXAM_AMENDMENT = "signal_exam_amendment"
# Staff bulk actions (workflows/batch.py, activities/batch.py).
BATCH_PROGRESS = "progress"  # query
BATCH_COUNT = "batch_count"
BATCH_LIST_PAGE = "batch_list_page"
BATCH_ADMIT = "batch_admit"
BATCH_CONVOCATIONS = "batch_convocations"
BATCH_RESULTS_SIZE = "batch_results_size"
BATCH_RESULTS = "batch_results"
# Personal-data purge (workflows/purge.py, activities/purge.py), started daily by a Schedule.
PURGE_DUE_CAMPAIGNS = "purge_due_campaigns"
PURGE_CAMPAIGN = "purge_campaign"
PURGE_SCHEDULE_ID = "purge-donnees-personnelles"

# Search attributes: staff lists are visibility queries over these.
STATUS = SearchAttributeKey.for_keyword("DossierStatus")
CAMPAIGN = SearchAttributeKey.for_keyword("CampaignId")
ROUTE = SearchAttributeKey.for_keyword("Route")
CANDIDATE_NAME = SearchAttributeKey.for_text("CandidateName")
CANDIDATE_EMAIL = SearchAttributeKey.for_keyword("CandidateEmail")
DOSSIER_NUMBER = SearchAttributeKey.for_keyword("DossierNumber")

SEARCH_ATTRIBUTES = (STATUS, CAMPAIGN, ROUTE, CANDIDATE_NAME, CANDIDATE_EMAIL, DOSSIER_NUMBER)

_DEV_SERVER_TYPES = {"KEYWORD": "Keyword", "TEXT": "Text"}


def dev_server_search_attribute_flags() -> list[str]:
    """`--search-attribute NAME=TYPE` flags registering our keys when the dev server starts."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={_DEV_SERVER_TYPES[key.indexed_value_type.name]}"]
    return flags


def dossier_search_attributes(registration: Registration) -> TypedSearchAttributes:
    """Set when the dossier's workflow starts; the workflow keeps DossierStatus current."""
    candidate = registration.candidate
    return TypedSearchAttributes(
        [
            SearchAttributePair(STATUS, str(Status.AWAITING_DOSSIER)),
            SearchAttributePair(CAMPAIGN, registration.campaign.id),
            SearchAttributePair(ROUTE, registration.route),
            SearchAttributePair(CANDIDATE_NAME, f"{candidate.last_name} {candidate.first_name}"),
            SearchAttributePair(CANDIDATE_EMAIL, candidate.email.lower()),
            SearchAttributePair(DOSSIER_NUMBER, registration.dossier_number),
        ]
    )


def dossier_workflow_id(dossier_number: str) -> str:
    """The dossier number is the workflow ID: operators find a dossier by what candidates quote."""
    return dossier_number


def campaign_deadline_workflow_id(campaign_id: str, new_deadline_iso: str) -> str:
    return f"campaign-{campaign_id}-deadline-{new_deadline_iso}"


def campaign_exams_workflow_id(campaign_id: str, amendment_digest: str) -> str:
    """One run per amendment (`ExamAmendment.digest`): a double submit joins the running one."""
    return f"campaign-{campaign_id}-exams-{amendment_digest}"


def campaign_workflow_prefixes(campaign_id: str) -> list[str]:
    """The ID prefixes of the campaign-wide changes' workflows (they carry no CampaignId)."""
    return [f"campaign-{campaign_id}-deadline-", f"campaign-{campaign_id}-exams-"]


def purge_workflow_id(campaign_id: str | None) -> str:
    """A purge asked from the command line; the Schedule's runs get the schedule's ID and time."""
    return f"purge-{campaign_id or 'toutes'}"


def batch_workflow_id(kind: str, campaign_id: str, scope: str = "") -> str:
    """One bulk action per kind, campaign and scope (an exam, a file's checksum) at a time:
    a second click while it runs joins the running one instead of starting another."""
    return f"batch-{kind}-{campaign_id}" + (f"-{scope}" if scope else "")
