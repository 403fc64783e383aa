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
REQUEST_ACCOMMODATIONS = "request_accommodations"
CHANGE_EMAIL = "change_email"  # once the candidate confirmed the new address by its link
# Staff updates.
DECIDE = "decide"
DEPOSIT_DOCUMENT = "deposit_document"
RECORD_RESULT = "record_result"
ISSUE_LETTER = "issue_letter"
DECIDE_ACCOMMODATIONS = "decide_accommodations"
# Signals (no answer needed: the sender cannot do anything with a refusal).
REPLACED_BY = "replaced_by"  # signal of older releases (unproven replacement), kept for their histories
CONFIRM_REPLACEMENT = "confirm_replacement"
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
BATCH_EXAM_DAY = "batch_exam_day"
BATCH_EXAM_DAY_FILES = "batch_exam_day_files"
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
# The candidate's validation instant, set when it is recorded (dossiers validated before the
# "validated-at-attribute" patch lack it): the instruction queue serves the oldest first.
VALIDATED_AT = SearchAttributeKey.for_datetime("ValidatedAt")

SEARCH_ATTRIBUTES = (STATUS, CAMPAIGN, ROUTE, CANDIDATE_NAME, CANDIDATE_EMAIL, DOSSIER_NUMBER, VALIDATED_AT)

# Business metrics recorded through the SDK's metric meter (`infra/telemetry.py`, README
# « Exploitation »); the exporter appends `_total` to counters.
METRIC_VALIDATIONS = "inscriptions_validations"  # {campaign}: validations a dossier accepted
METRIC_REFUSALS = "inscriptions_refusals"  # {campaign, action}: requests a dossier refused
METRIC_MAILS_QUEUED = "inscriptions_mails_queued"  # {campaign}: mails handed to the sending activity
METRIC_MAILS_SENT = "inscriptions_mails_sent"  # {template}: mails the SMTP server took
# {template}: mails sent again because an attempt was cut off during DATA (activities/mail.py):
# the candidate may hold two copies with one Message-ID.
METRIC_MAILS_SENT_AGAIN = "inscriptions_mails_sent_again"
METRIC_MAILS_SET_ASIDE = "inscriptions_mails_set_aside"  # {campaign}: mails refused for good, set aside
METRIC_MAIL_FAILURES = "inscriptions_mail_failures"  # attempts the SMTP server refused or missed
METRIC_MAIL_DELAY = "inscriptions_mail_delay_seconds"  # histogram: first try to sent
METRIC_DOSSIERS = "inscriptions_dossiers"  # gauge {campaign, status}, from visibility
METRIC_BATCHES_RUNNING = "inscriptions_batches_running"  # gauge {campaign}
METRIC_DEADLINE = "inscriptions_campaign_validation_deadline"  # gauge {campaign}: Unix seconds

_DEV_SERVER_TYPES = {"KEYWORD": "Keyword", "TEXT": "Text", "DATETIME": "Datetime"}


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
