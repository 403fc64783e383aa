"""DossierWorkflow: one durable workflow carries one dossier from pre-registration to archive.

The lifecycle (DOMAIN.md):
1. pre-registration opens the dossier and emails its number;
2. the candidate validates before the deadline, or the dossier is cancelled when it passes
   (with reminders 7 and 1 days before);
3. from 8:30 on the next working day the dossier is under instruction and acknowledged;
4. staff decide: complete, incomplete (one regularisation request), rejected, admitted;
5. convocations deposited by staff are released about 15 days before their exam;
6. results and letters follow; the dossier stays readable until staff archive it.

Letters are printed by an activity and deposited here: the letter that goes with a decision or
a result is ordered by the handler that records it and printed by one loop (`_issue_letters`),
so the decision and its letter are durable together; staff ask for other letters with the
`issue_letter` Update, which waits for the print.

The rules live in `domain.dossier.Dossier`; this class only turns messages and timers into calls
on it. Handlers are synchronous, so they never interleave: emails are queued by the rules and sent
by one loop (`_send_mails`), which keeps them in order and lets them wait out an SMTP outage
without holding up the candidate's request. A mail the server refuses for good (5xx) is set
aside instead, so one bad address holds up nothing; `change_email` sends it again.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.accommodations import AccommodationDecision, AccommodationRequest
    from domain.campaign import ExamAmendment
    from domain.candidate import Address, Registration
    from domain.decisions import Decision
    from domain.documents import CentreDocument, UploadedDocument
    from domain.dossier import Dossier, Refusal
    from domain.exams import ExamResult
    from domain.letters import LETTER_OF_DECISION, LetterKind, LetterOrder, PrintOrder, check_letter
    from domain.status import Status
    from domain.summary import DossierSummary, summarise
    from workflows import names

REFUSAL = "Refusal"  # ApplicationError type of every refused message

# workflow.patched IDs, one per change that alters the commands of open dossiers (README).
UNCANCELLED_TIMERS = "uncancelled-timers"  # 2026-11: messages no longer cancel the timer
LETTERS_IN_WORKFLOW = "letters-in-workflow"  # 2026-12: decisions and results order their letter
RECEIPT_TIME = "receipt-time"  # 2026-12: what closes at a deadline waits for on-time actions
MAIL_SET_ASIDE = "mail-set-aside"  # 2026-12: a mail refused for good is set aside, not retried
VALIDATED_AT = "validated-at-attribute"  # 2026-12: the instruction queue orders by validation
CONVOCATION_REPRINT = "convocation-reprint"  # 2026-12: a later accommodation decision reprints

# Mail waits out an SMTP outage: retried forever, backing off to one try every 10 minutes. A
# permanent refusal (5xx) is not retried: the activity fails with MAIL_REFUSED at once.
MAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=10))
# A decision's letter waits out a storage or database outage the same way; a letter staff
# asked for on a page gives up after a few tries, so the page can say so.
LETTER_RETRY = MAIL_RETRY
ASKED_LETTER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
LETTER_FAILED = "Le document n'a pas pu être produit. Réessayez dans quelques instants."


@dataclass
class Validate:
    sworn_statement: bool
    # When the web received the click (its clock); the deadline is judged at this instant.
    received_at: datetime | None = None


@dataclass
class ChangeEmail:
    """A new e-mail address the candidate confirmed by following the link sent to it."""

    email: str


@dataclass
class ResultEntry:
    result: ExamResult
    by: str


@dataclass
class Ack:
    """What an accepted message leaves: the dossier's status afterwards."""

    status: Status
    label: str


@dataclass
class LetterAck:
    """What an `issue_letter` Update leaves: the dossier's status and the letter's fate."""

    status: Status
    label: str
    title: str
    deposited: bool  # False when the dossier already held this very letter


@dataclass
class Outcome:
    dossier_number: str
    status: Status


def _count(metric: str, **attributes: str) -> None:
    """Add one to a business counter (README « Exploitation »). The workflow's meter records
    nothing during replay, so a dossier rebuilt from its history counts nothing twice; it issues
    no command, so it needs no patch."""
    workflow.metric_meter().create_counter(metric).add(1, attributes)


def _refuse(check: Callable[[], None]) -> None:
    """Run a domain check; a Refusal becomes an ApplicationError the caller can show as is."""
    try:
        check()
    except Refusal as refusal:
        update = workflow.current_update_info()
        _count(
            names.METRIC_REFUSALS,
            campaign=workflow.info().typed_search_attributes.get(names.CAMPAIGN) or "",
            action=update.name if update else "",
        )
        raise ApplicationError(refusal.message, type=REFUSAL, non_retryable=True) from None


@workflow.defn(name=names.DOSSIER_WORKFLOW)
class DossierWorkflow:
    @workflow.init
    def __init__(self, registration: Registration) -> None:
        # Handlers may run before `run` (an update delivered with the first task), so the
        # dossier exists from here.
        self.dossier = Dossier.open(registration, workflow.now())
        if workflow.patched(RECEIPT_TIME):
            # Deadlines are judged at each action's receipt; the cancellation and the closing
            # notes wait the campaign's receipt delay, for on-time actions still on their way.
            self.dossier.receipt_grace = self.dossier.campaign.receipt_delay
        self._woken = False  # set by a message or a timer: the loop looks at the dossier again
        # Due instants a timer is running for (the tasks are kept so they stay referenced).
        self._timers: dict[datetime, asyncio.Task[None]] = {}
        self._published_status: Status | None = None
        self._letters: list[LetterOrder] = []  # ordered by decisions and results, printed in order

    @workflow.run
    async def run(self, registration: Registration) -> Outcome:
        mails = asyncio.ensure_future(self._send_mails())
        letters = asyncio.ensure_future(self._issue_letters())
        # Waits for reprints the rules order, which dossiers that never took CONVOCATION_REPRINT
        # never do: no command for them.
        reprints = asyncio.ensure_future(self._reprint_convocations())
        while not self.dossier.archived:
            self.dossier.run_due(workflow.now())
            self._publish_status()
            await self._sleep_until_due_or_message(self.dossier.next_due())
        # Leave nothing half done: every accepted message handled, every letter printed, every
        # queued email sent.
        await workflow.wait_condition(
            lambda: (
                workflow.all_handlers_finished()
                and not self._letters
                and not self.dossier.pending_convocation_reprints
                and not self.dossier.outbox
            )
        )
        reprints.cancel()
        letters.cancel()
        mails.cancel()
        return Outcome(self.dossier.dossier_number, self.dossier.status)

    async def _sleep_until_due_or_message(self, due: datetime | None) -> None:
        """Wait for the next due instant or any message (a message may move deadlines).

        Timers are never cancelled: a message only wakes the loop, and the timer for an instant
        still due keeps running; a timer for an instant no longer due fires later and finds
        nothing to do. Cancelling a timer that fires while the workflow task is with the worker
        is a race the Java time-skipping test server mishandles (temporalio/sdk-java#3088), and
        uncancelled timers also keep busy dossiers' histories shorter.
        """
        if not workflow.patched(UNCANCELLED_TIMERS):
            await self._sleep_cancelling_the_timer(due)
            return
        self._woken = False
        if due is not None:
            remaining = due - workflow.now()
            if remaining <= timedelta(0):
                return
            if due not in self._timers:
                self._timers[due] = asyncio.ensure_future(self._timer(due, remaining))
        await workflow.wait_condition(lambda: self._woken)

    async def _sleep_cancelling_the_timer(self, due: datetime | None) -> None:
        """The wait of dossiers started before UNCANCELLED_TIMERS: one timer per wait,
        cancelled by any message. Kept so their histories replay; remove once none is open."""
        self._woken = False
        if due is None:
            await workflow.wait_condition(lambda: self._woken)
            return
        remaining = due - workflow.now()
        if remaining <= timedelta(0):
            return
        # Kept as written, not contextlib.suppress: this legacy path replays recorded histories.
        try:  # noqa: SIM105
            await workflow.wait_condition(lambda: self._woken, timeout=remaining)
        except TimeoutError:
            pass

    async def _timer(self, due: datetime, remaining: timedelta) -> None:
        await workflow.sleep(remaining)
        del self._timers[due]
        self._woken = True

    async def _send_mails(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self.dossier.outbox))
            _count(names.METRIC_MAILS_QUEUED, campaign=self.dossier.campaign.id)
            mail = self.dossier.outbox[0]  # as sent: a new address does not rewrite it
            try:
                await workflow.execute_activity(
                    names.SEND_MAIL,
                    mail,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=MAIL_RETRY,
                )
            except ActivityError as exc:
                cause = exc.cause
                # Histories recorded before MAIL_SET_ASIDE never reach this point (the activity
                # could not fail then); the marker keeps the change visible to the replay check.
                if not (
                    isinstance(cause, ApplicationError)
                    and cause.type == names.MAIL_REFUSED
                    and workflow.patched(MAIL_SET_ASIDE)
                ):
                    raise
                self.dossier.set_mail_aside(mail, cause.message, workflow.now())
                _count(names.METRIC_MAILS_SET_ASIDE, campaign=self.dossier.campaign.id)
            self.dossier.outbox.pop(0)

    async def _print(self, order: LetterOrder, retry: RetryPolicy) -> CentreDocument:
        return await workflow.execute_activity(
            names.PRINT_LETTER,
            PrintOrder(self.dossier, order),
            result_type=CentreDocument,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=retry,
        )

    def _deposit_printed(self, document: CentreDocument) -> bool:
        """Deposit a printed letter; False when the dossier already holds it (a repeated order)."""
        if any(d.ref == document.ref for d in self.dossier.documents):
            return False
        self.dossier.deposit(document, workflow.now())
        return True

    async def _issue_letters(self) -> None:
        """The letters of decisions and results, in order. One that cannot be deposited any more
        (the dossier moved on meanwhile) is left out and logged: staff can still issue it."""
        while True:
            await workflow.wait_condition(lambda: bool(self._letters))
            order = self._letters[0]
            try:
                self._deposit_printed(await self._print(order, LETTER_RETRY))
                self._accepted()
            except (ActivityError, Refusal) as exc:
                workflow.logger.warning(
                    "Dossier %s: letter %s not deposited (%s)",
                    self.dossier.dossier_number,
                    order.kind.value,
                    getattr(exc, "message", exc),
                )
            self._letters.pop(0)

    async def _reprint_convocations(self) -> None:
        """Convocations the rules order printed again (accommodations decided after they were
        printed), one at a time; the new version takes the old one's place in the dossier."""
        while True:
            await workflow.wait_condition(lambda: bool(self.dossier.pending_convocation_reprints))
            reprint = self.dossier.pending_convocation_reprints[0]
            order = LetterOrder(LetterKind.CONVOCATION, exam_code=reprint.exam_code, version=reprint.version)
            try:
                document = await self._print(order, LETTER_RETRY)
            except ActivityError as exc:
                # Only a refusal ends a print retried forever: the dossier moved on meanwhile.
                reason = getattr(exc.cause, "message", str(exc))
                workflow.logger.warning(
                    "Dossier %s: convocation %s not printed again (%s)",
                    self.dossier.dossier_number,
                    order.exam_code,
                    reason,
                )
                self.dossier.reprint_failed(reprint, reason, workflow.now())
            else:
                self.dossier.replace_convocation(reprint, document, workflow.now())
            self._accepted()

    def _order_letter(self, order: LetterOrder) -> None:
        if workflow.patched(LETTERS_IN_WORKFLOW):
            self._letters.append(order)

    def _publish_status(self) -> None:
        if self.dossier.status != self._published_status:
            self._published_status = self.dossier.status
            workflow.upsert_search_attributes([names.STATUS.value_set(str(self.dossier.status))])

    def _accepted(self) -> Ack:
        self._woken = True
        self._publish_status()
        return Ack(self.dossier.status, self.dossier.status.label)

    # ------------------------------------------------------------ candidate messages
    @workflow.update(name=names.VALIDATE)
    def validate(self, command: Validate) -> Ack:
        _refuse(lambda: self.dossier.validate(command.sworn_statement, workflow.now(), command.received_at))
        _count(names.METRIC_VALIDATIONS, campaign=self.dossier.campaign.id)
        if workflow.patched(VALIDATED_AT) and self.dossier.validated_at is not None:
            # The instruction queue serves the oldest validation first (a visibility query).
            workflow.upsert_search_attributes([names.VALIDATED_AT.value_set(self.dossier.validated_at)])
        return self._accepted()

    @validate.validator
    def _validate_allowed(self, command: Validate) -> None:
        _refuse(lambda: self.dossier.check_validate(command.sworn_statement, workflow.now(), command.received_at))

    @workflow.update(name=names.RECORD_UPLOAD)
    def record_upload(self, upload: UploadedDocument) -> Ack:
        _refuse(lambda: self.dossier.record_upload(upload, workflow.now()))
        return self._accepted()

    @record_upload.validator
    def _upload_allowed(self, upload: UploadedDocument) -> None:
        _refuse(lambda: self.dossier.check_upload(upload.category, workflow.now(), upload.received_at))

    @workflow.update(name=names.WITHDRAW)
    def withdraw(self) -> Ack:
        _refuse(lambda: self.dossier.withdraw(workflow.now()))
        return self._accepted()

    @withdraw.validator
    def _withdraw_allowed(self) -> None:
        _refuse(lambda: self.dossier.check_withdraw(workflow.now()))

    @workflow.update(name=names.CHANGE_ADDRESS)
    def change_address(self, address: Address) -> Ack:
        _refuse(lambda: self.dossier.change_address(address, workflow.now()))
        return self._accepted()

    @change_address.validator
    def _address_allowed(self, address: Address) -> None:
        _refuse(lambda: self.dossier.check_change_address(address, workflow.now()))

    # New handlers, no patch needed: histories recorded before them never carry these
    # updates, and nothing they do changes the commands of existing events.
    @workflow.update(name=names.REQUEST_ACCOMMODATIONS)
    def request_accommodations(self, request: AccommodationRequest) -> Ack:
        _refuse(lambda: self.dossier.request_accommodations(request, workflow.now()))
        return self._accepted()

    @request_accommodations.validator
    def _accommodations_request_allowed(self, request: AccommodationRequest) -> None:
        _refuse(lambda: self.dossier.check_request_accommodations(request, workflow.now()))

    @workflow.update(name=names.CHANGE_EMAIL)
    def change_email(self, command: ChangeEmail) -> Ack:
        """Sent by the web once the link to the new address was followed (the web checked the
        address's form and changes the account row after this answer). Set-aside mails go again."""
        changed = False

        def change() -> None:
            nonlocal changed
            changed = self.dossier.change_email(command.email, workflow.now())

        _refuse(change)
        if changed:
            workflow.upsert_search_attributes(
                [names.CANDIDATE_EMAIL.value_set(self.dossier.registration.candidate.email.lower())]
            )
        return self._accepted()

    @change_email.validator
    def _email_change_allowed(self, command: ChangeEmail) -> None:
        _refuse(lambda: self.dossier.check_change_email(command.email, workflow.now()))

    # ------------------------------------------------------------ staff messages
    @workflow.update(name=names.DECIDE_ACCOMMODATIONS)
    def decide_accommodations(self, decision: AccommodationDecision) -> Ack:
        _refuse(lambda: self.dossier.decide_accommodations(decision, workflow.now()))
        if workflow.patched(CONVOCATION_REPRINT):
            # From this decision on, a convocation printing other accommodations is printed
            # again (the rules order it, `_reprint_convocations` prints it). A decision recorded
            # before this release replays without: no print it did not order.
            self.dossier.reprints_convocations = True
        return self._accepted()

    @decide_accommodations.validator
    def _accommodations_decision_allowed(self, decision: AccommodationDecision) -> None:
        _refuse(lambda: self.dossier.check_decide_accommodations(decision, workflow.now()))

    @workflow.update(name=names.DECIDE)
    def decide(self, decision: Decision) -> Ack:
        _refuse(lambda: self.dossier.decide(decision, workflow.now()))
        letter = LETTER_OF_DECISION.get(decision.kind)
        if letter is not None:
            self._order_letter(LetterOrder(letter, by=decision.by))
        return self._accepted()

    @decide.validator
    def _decision_allowed(self, decision: Decision) -> None:
        _refuse(lambda: self.dossier.check_decide(decision, workflow.now()))

    @workflow.update(name=names.DEPOSIT_DOCUMENT)
    def deposit_document(self, document: CentreDocument) -> Ack:
        _refuse(lambda: self.dossier.deposit(document, workflow.now()))
        return self._accepted()

    @deposit_document.validator
    def _deposit_allowed(self, document: CentreDocument) -> None:
        _refuse(lambda: self.dossier.check_deposit(document.kind, document.exam_code, workflow.now()))

    @workflow.update(name=names.RECORD_RESULT)
    def record_result(self, entry: ResultEntry) -> Ack:
        _refuse(lambda: self.dossier.record_result(entry.result, workflow.now()))
        self._order_letter(LetterOrder(LetterKind.RESULT, by=entry.by, result=entry.result))
        return self._accepted()

    @record_result.validator
    def _result_allowed(self, entry: ResultEntry) -> None:
        _refuse(lambda: self.dossier.check_result(entry.result, workflow.now()))

    @workflow.update(name=names.ISSUE_LETTER)
    async def issue_letter(self, order: LetterOrder) -> LetterAck:
        """Print a letter staff asked for and deposit it; answers once it is in the dossier."""
        try:
            document = await self._print(order, ASKED_LETTER_RETRY)
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSAL:
                raise ApplicationError(cause.message, type=REFUSAL, non_retryable=True) from None
            raise ApplicationError(LETTER_FAILED, type="LetterFailed", non_retryable=True) from None
        deposited = False

        def deposit() -> None:
            nonlocal deposited
            deposited = self._deposit_printed(document)

        _refuse(deposit)  # the dossier may have moved on while the letter was printed
        ack = self._accepted()
        return LetterAck(ack.status, ack.label, document.title, deposited)

    @issue_letter.validator
    def _letter_allowed(self, order: LetterOrder) -> None:
        _refuse(lambda: check_letter(self.dossier, order, workflow.now()))

    @workflow.update(name=names.CONFIRM_REPLACEMENT)
    def confirm_replacement(self, new_dossier_number: str) -> Ack:
        """The owner, from this dossier's space, confirms a later pre-registration replaces it.
        An Update, not a signal: the owner must hear at once when the status refuses it."""
        _refuse(lambda: self.dossier.confirm_replacement(new_dossier_number, workflow.now()))
        return self._accepted()

    @confirm_replacement.validator
    def _replacement_allowed(self, new_dossier_number: str) -> None:
        _refuse(lambda: self.dossier.check_confirm_replacement(new_dossier_number, workflow.now()))

    # ------------------------------------------------------------ system messages
    @workflow.signal(name=names.REPLACED_BY)
    def replaced_by(self, new_dossier_number: str) -> None:
        self.dossier.replace_by(new_dossier_number, workflow.now())
        self._accepted()

    @workflow.signal(name=names.EXTEND_DEADLINE)
    def extend_deadline(self, new_deadline: datetime) -> None:
        self.dossier.extend_deadline(new_deadline, workflow.now())
        self._accepted()

    @workflow.signal(name=names.AMEND_EXAMS)
    def amend_exams(self, amendment: ExamAmendment) -> None:
        """Exam dates or venues moved: pending convocations get new release instants, which the
        woken loop gives timers (timers of the old instants fire later and find nothing)."""
        self.dossier.amend_exams(amendment.exams, workflow.now(), amendment.amended_at)
        self._accepted()

    @workflow.signal(name=names.ARCHIVE)
    def archive(self) -> None:
        self.dossier.archive(workflow.now())
        self._accepted()

    # ------------------------------------------------------------ queries
    @workflow.query(name=names.VIEW)
    def view(self) -> Dossier:
        """The whole dossier; callers apply the pure view rules with their own clock."""
        return self.dossier

    @workflow.query(name=names.SUMMARY)
    def summary(self, now: datetime) -> DossierSummary:
        """What the candidate's pages show, judged at the caller's instant (the web's clock, as
        `view`'s callers use), without the outbox, the campaign or the uploads' checksums."""
        return summarise(self.dossier, now)

    @workflow.query(name=names.PENDING_LETTERS)
    def pending_letters(self) -> list[LetterKind]:
        """Letters ordered by a decision or a result and not yet deposited (being printed),
        convocations being printed again included."""
        return [order.kind for order in self._letters] + [
            LetterKind.CONVOCATION for _ in self.dossier.pending_convocation_reprints
        ]
