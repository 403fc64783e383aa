"""One dossier's rules: what each status allows, what each message does, what falls due when.

The workflow holds one `Dossier` and calls these methods from its message handlers and timers.
Every method takes `now` rather than reading a clock, so the same rules run in the workflow
(with `workflow.now()`), in the unit tests (with fixed instants) and in replay. A refused action
raises `Refusal`, whose French message is shown to the user as is. Emails are queued in
`outbox` with a key unique to the event; the workflow sends them through an activity.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.accommodations import (
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
    AccommodationRefusal,
    AccommodationRequest,
    Accommodations,
    check_decision,
    check_request,
)
from domain.calendar import uploads_reopen_at
from domain.campaign import Campaign, ExamDate, ExamKind, Route
from domain.candidate import Address, Registration
from domain.decisions import Decision, DecisionKind, Regularisation
from domain.documents import CentreDocument, CentreDocumentKind, ConvocationReprint, UploadedDocument
from domain.exams import ExamResult, is_convened, may_sit
from domain.fr import datetime_fr
from domain.mail import Mail, MailTemplate, SetAsideMail
from domain.space import Action, UploadSlot, UploadWindow
from domain.status import Status
from domain.timeline import TimelineEntry

# The deadline itself still counts: a validation at the deadline's last instant is accepted,
# and the cancellation falls just after it.
AFTER_DEADLINE = timedelta(milliseconds=1)

# Time of receipt decides. A candidate's action bound to a deadline carries the instant the web
# received it (`received_at`, the web server's clock); the rules judge the deadline by that
# instant, not by when the workflow gets to it, which under load can be minutes later.
# The campaign's `receipt_delay` bounds how late an action may reach its dossier: an older stamp
# is refused (a stale or replayed request), and what closes at a deadline (the cancellation of a
# dossier not validated, the end-of-period notes) waits that long, so it never overtakes an
# on-time action still on its way. CLOCK_TOLERANCE allows for the web's clock running ahead.
CLOCK_TOLERANCE = timedelta(seconds=30)


class Refusal(Exception):
    """An action that does not apply to this dossier now; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Dossier:
    registration: Registration
    status: Status
    validation_deadline: datetime
    timeline: list[TimelineEntry] = field(default_factory=list)
    outbox: list[Mail] = field(default_factory=list)
    mails_queued: int = 0
    validated_at: datetime | None = None
    uploads_reopen_at: datetime | None = None
    instruction_started_at: datetime | None = None
    uploads: list[UploadedDocument] = field(default_factory=list)
    regularisation: Regularisation | None = None
    decision_reasons: str = ""
    documents: list[CentreDocument] = field(default_factory=list)
    reminders_done: list[timedelta] = field(default_factory=list)
    grace_end_noted: bool = False
    replaced_by: str | None = None
    archived: bool = False
    # How long what closes at a deadline waits for on-time actions (the campaign's receipt_delay);
    # zero for dossiers opened before the workflow's "receipt-time" patch.
    receipt_grace: timedelta = timedelta(0)
    # The candidate's request for exam accommodations and staff's answer (domain.accommodations).
    accommodations: Accommodations | None = None
    # Mails the recipient's server refused for good (SMTP 5xx), oldest first; they no longer
    # hold up the outbox and go again to the next address the candidate confirms.
    set_aside: list[SetAsideMail] = field(default_factory=list)
    # Whether a convocation printed with other accommodations than those granted is printed again
    # (set by the workflow's "convocation-reprint" patch at an accommodation decision; False in
    # dossiers whose decision came before it, which replay as they ran), and those reprints.
    reprints_convocations: bool = False
    convocation_reprints: list[ConvocationReprint] = field(default_factory=list)

    # ----------------------------------------------------------------- pre-registration
    @classmethod
    def open(cls, registration: Registration, now: datetime) -> "Dossier":
        campaign = registration.campaign
        dossier = cls(
            registration=registration,
            status=Status.AWAITING_DOSSIER,
            validation_deadline=campaign.validation_deadline,
        )
        # Reminders whose time had passed at registration would only repeat the first email.
        dossier.reminders_done = [r for r in campaign.validation_reminders if dossier.validation_deadline - r <= now]
        dossier._note(now, "preinscription", "Préinscription enregistrée.")
        dossier._mail(
            MailTemplate.PREREGISTERED,
            deadline=dossier._when(dossier.validation_deadline),
            replaces=registration.replaces or "",
        )
        return dossier

    # ----------------------------------------------------------------- candidate actions
    def received(self, received_at: datetime | None, now: datetime) -> datetime:
        """The instant an action is judged by: when the web received it (checked to be plausible
        against `now`), or `now` for a caller that does not stamp."""
        if received_at is None:
            return now
        if received_at > now + CLOCK_TOLERANCE:
            raise Refusal("L'heure de réception de cette demande n'est pas valable : renvoyez-la depuis votre espace.")
        if received_at < now - self.campaign.receipt_delay:
            raise Refusal(
                "Cette demande est trop ancienne pour être prise en compte : renvoyez-la depuis votre espace."
            )
        return received_at

    def check_validate(self, sworn_statement: bool, now: datetime, received_at: datetime | None = None) -> None:
        at = self.received(received_at, now)
        if self.status is not Status.AWAITING_DOSSIER:
            if self.validated_at is not None:
                raise Refusal("Votre demande d'inscription est déjà validée.")
            raise Refusal(f"Ce dossier ne peut plus être validé ({self.status.label}).")
        if at > self.validation_deadline:
            raise Refusal(
                "La date limite de validation ("
                f"{self._when(self.validation_deadline)}) est dépassée : "
                "votre demande d'inscription ne peut plus être validée."
            )
        if not sworn_statement:
            raise Refusal(
                "Vous devez cocher la case « J'ai lu, j'approuve et je signe l'attestation sur "
                "l'honneur présente dans mon dossier d'inscription »."
            )

    def validate(self, sworn_statement: bool, now: datetime, received_at: datetime | None = None) -> None:
        self.check_validate(sworn_statement, now, received_at)
        at = self.received(received_at, now)
        self.validated_at = at  # the candidate's click, however late the workflow got to it
        self.status = Status.TRANSFERRING
        campaign = self.campaign
        self.uploads_reopen_at = uploads_reopen_at(at, campaign.time_zone, campaign.public_holidays)
        self._note(now, "validation", "Demande d'inscription validée.")
        self._mail(MailTemplate.VALIDATED, uploads_reopen=self._when(self.uploads_reopen_at))

    def uploads_window(self, now: datetime) -> UploadWindow:
        """Whether the space takes uploads now, until when, or from when."""
        if self.status.is_closed:
            return UploadWindow(False, reason="Ce dossier ne reçoit plus de pièces.")
        if self.status is Status.AWAITING_DOSSIER:
            if now <= self.validation_deadline:
                return UploadWindow(True, until=self.validation_deadline)
            return UploadWindow(
                False,
                reason=f"La date limite de validation ({self._when(self.validation_deadline)}) est dépassée.",
            )
        assert self.uploads_reopen_at is not None
        grace_end = self.validation_deadline + self.campaign.upload_grace
        # Two windows may overlap: the grace period and the single regularisation request.
        closes: list[datetime] = []
        if self.uploads_reopen_at <= now <= grace_end:
            closes.append(grace_end)
        if self._regularisation_open(now):
            assert self.regularisation is not None
            closes.append(self.regularisation.deadline)
        if closes:
            return UploadWindow(True, until=max(closes))
        if now < self.uploads_reopen_at:
            return UploadWindow(
                False,
                opens_at=self.uploads_reopen_at,
                reason=f"Les pièces pourront être déposées à partir du {self._when(self.uploads_reopen_at)}.",
            )
        return UploadWindow(
            False,
            reason="La période de dépôt des pièces est close depuis le "
            f"{self._when(max(grace_end, self.regularisation.deadline) if self.regularisation else grace_end)}.",
        )

    def category_counts(self) -> dict[str, int]:
        counts = {c.code: 0 for c in self.route.documents}
        for upload in self.uploads:
            counts[upload.category] = counts.get(upload.category, 0) + 1
        return counts

    def check_upload(self, category: str, now: datetime, received_at: datetime | None = None) -> None:
        # The windows (deadline, grace period, regularisation) are judged at the upload's receipt.
        refusal = self._upload_refusal(category, self.received(received_at, now))
        if refusal is not None:
            raise Refusal(refusal)

    def upload_slots(self, now: datetime) -> list[UploadSlot]:
        """Each document category of the route: its files, whether the open regularisation asks
        for it, and whether a file can be added now (exactly what `check_upload` accepts)."""
        counts = self.category_counts()
        asked = set(self.regularisation.missing) if self._regularisation_open(now) and self.regularisation else set()
        slots = []
        for cat in self.route.documents:
            refusal = self._upload_refusal(cat.code, now)
            slots.append(
                UploadSlot(
                    code=cat.code,
                    label=cat.label,
                    count=counts.get(cat.code, 0),
                    max_files=cat.max_files,
                    asked=cat.code in asked,
                    can_upload=refusal is None,
                    reason=refusal or "",
                )
            )
        return slots

    def _upload_refusal(self, category: str, now: datetime) -> str | None:
        window = self.uploads_window(now)
        if not window.open:
            return window.reason
        cat = self.route.category(category)
        if cat is None:
            return f"Cette catégorie de pièce n'est pas demandée pour ce dossier : {category}."
        if self._files_counted_against_maximum(category, now) >= cat.max_files:
            return f"« {cat.label} » : le nombre maximal de fichiers ({cat.max_files}) est atteint."
        return None

    def record_upload(self, upload: UploadedDocument, now: datetime) -> None:
        self.check_upload(upload.category, now, upload.received_at)
        if any(u.ref == upload.ref for u in self.uploads):
            raise Refusal("Ce fichier est déjà enregistré dans votre dossier.")
        self.uploads.append(upload)
        self._note(now, "piece_deposee", f"Pièce déposée : {upload.filename} ({self._labels([upload.category])}).")

    def check_withdraw(self, now: datetime) -> None:
        if self.status.is_closed:
            raise Refusal(f"Ce dossier est clos ({self.status.label}).")

    def withdraw(self, now: datetime) -> None:
        self.check_withdraw(now)
        self.status = Status.WITHDRAWN
        self._note(now, "desistement", "Désistement enregistré à votre demande.")
        self._mail(MailTemplate.WITHDRAWN)

    def check_change_address(self, address: Address, now: datetime) -> None:
        if self.status in (Status.CANCELLED, Status.WITHDRAWN, Status.REPLACED):
            raise Refusal(f"Ce dossier est clos ({self.status.label}).")
        if not (address.line1.strip() and address.postal_code.strip() and address.city.strip()):
            raise Refusal("L'adresse, le code postal et la ville sont obligatoires.")

    def change_address(self, address: Address, now: datetime) -> None:
        self.check_change_address(address, now)
        self.registration.candidate.address = address
        self._note(now, "changement_adresse", "Changement d'adresse enregistré.")
        self._mail(MailTemplate.ADDRESS_CHANGED)

    def check_confirm_replacement(self, new_dossier_number: str, now: datetime) -> None:
        """Whether this dossier's owner may have it replaced by a later pre-registration now.

        Only a pre-registration not yet validated is closed by a replacement. A validated
        dossier is in the centre's hands (instruction, decisions, convocations, results): closing
        it because another form was filed would undo that work without a word to staff, so the
        owner withdraws from its space (« désistement ») or writes to the centre instead."""
        if self.status is Status.REPLACED and self.replaced_by == new_dossier_number:
            return  # already confirmed: a second click changes nothing
        if self.status.is_closed:
            raise Refusal(f"Ce dossier est clos ({self.status.label}) : il n'y a plus rien à remplacer.")
        if self.status is not Status.AWAITING_DOSSIER:
            raise Refusal(
                f"Ce dossier est déjà validé ({self.status.label}) : une nouvelle préinscription ne peut "
                "pas le remplacer. Si vous souhaitez y renoncer, utilisez « Me désister » dans cet "
                "espace ou écrivez au service concours."
            )

    def confirm_replacement(self, new_dossier_number: str, now: datetime) -> None:
        """The owner of this dossier, logged in to its space, confirms that their later
        pre-registration for the same grade replaces it (one registration per grade)."""
        self.check_confirm_replacement(new_dossier_number, now)
        if self.status is Status.REPLACED:
            return
        self.replace_by(new_dossier_number, now)

    # ----------------------------------------------------------------- mails refused for good
    def set_mail_aside(self, mail: Mail, reply: str, now: datetime) -> None:
        """The server refused `mail` for good: record it (which mail, when, the server's reply)
        so staff and the candidate see it, and let the following mails go. A mail to an address
        the candidate has replaced meanwhile goes again at once, to the current address."""
        entry = SetAsideMail(mail=mail, at=now, reply=reply)
        self.set_aside.append(entry)
        self._note(now, "courriel_non_remis", f"Courriel non remis à {mail.to} : {entry.label}.")
        current = self.registration.candidate.email
        if mail.to.lower() != current.lower():
            self._resend(entry, current, now)

    @property
    def pending_set_aside(self) -> list[SetAsideMail]:
        """Set-aside mails not sent again yet (the candidate's space shows them)."""
        return [entry for entry in self.set_aside if entry.pending]

    def check_change_email(self, new_email: str, now: datetime) -> None:
        # A dossier is readable until archived; after that its workflow finishes.
        if self.archived:
            raise Refusal("Ce dossier est archivé : son adresse électronique ne peut plus être modifiée.")
        if not new_email.strip():
            raise Refusal("Indiquez une adresse électronique.")

    def change_email(self, new_email: str, now: datetime) -> bool:
        """The candidate confirmed a new address (through a link sent to it): later mails, mails
        still queued and every set-aside mail go there. False when it is already the address
        (a confirmation link followed twice changes nothing and sends nothing again)."""
        self.check_change_email(new_email, now)
        candidate = self.registration.candidate
        if new_email.strip().lower() == candidate.email.lower():
            return False
        candidate.email = new_email.strip()
        # New objects rather than edits: the mail being sent keeps the address it went to.
        self.outbox = [replace(m, to=candidate.email) for m in self.outbox]
        self._note(now, "changement_courriel", f"Adresse électronique modifiée : {candidate.email}.")
        for entry in self.pending_set_aside:
            self._resend(entry, candidate.email, now)
        return True

    def _resend(self, entry: SetAsideMail, to: str, now: datetime) -> None:
        # Same key: never accepted by a server, so never recorded as sent; the activity still
        # sends each key once if this resend is retried.
        entry.resent_at, entry.resent_to = now, to
        self.outbox.append(replace(entry.mail, to=to))

    def replace_by(self, new_dossier_number: str, now: datetime) -> None:
        """A new pre-registration for the same grade by the same person replaces this one
        (`confirm_replacement` checks first; the `replaced_by` signal of older releases came
        without proof and is no longer sent)."""
        if self.status.is_closed:
            return  # nothing left to replace; the new dossier stands on its own
        self.status = Status.REPLACED
        self.replaced_by = new_dossier_number
        self._note(
            now,
            "remplacement",
            f"Préinscription remplacée par le dossier n° {new_dossier_number}.",
        )
        self._mail(MailTemplate.REPLACED, new_dossier=new_dossier_number)

    # ----------------------------------------------------------------- accommodations
    def may_request_accommodations(self, now: datetime) -> bool:
        """Whether the space offers the request form now (the request is still checked)."""
        return (
            self.accommodations is None
            and not self.status.is_closed
            and now <= self.campaign.accommodation_requests_close_at
        )

    def check_request_accommodations(self, request: AccommodationRequest, now: datetime) -> None:
        at = self.received(request.received_at, now)
        if self.status.is_closed:
            raise Refusal(f"Ce dossier est clos ({self.status.label}).")
        deadline = self.campaign.accommodation_requests_close_at
        try:
            check_request(self.accommodations, request, at, deadline, self._when(deadline))
        except AccommodationRefusal as refusal:
            raise Refusal(str(refusal)) from None

    def request_accommodations(self, request: AccommodationRequest, now: datetime) -> None:
        self.check_request_accommodations(request, now)
        self.accommodations = Accommodations(
            requested=list(request.kinds),
            details=request.details.strip(),
            certificates=list(request.certificates),
            requested_at=self.received(request.received_at, now),
        )
        asked = ", ".join(k.label for k in request.kinds)
        self._note(now, "amenagements_demande", f"Demande d'aménagements d'épreuves : {asked}.")
        self._mail(MailTemplate.ACCOMMODATIONS_REQUESTED, requested=asked)

    def check_decide_accommodations(self, decision: AccommodationDecision, now: datetime) -> None:
        self._granted(decision)

    def decide_accommodations(self, decision: AccommodationDecision, now: datetime) -> None:
        granted = self._granted(decision)
        acc = self.accommodations
        assert acc is not None, "checked by _granted"
        acc.outcome = decision.outcome
        acc.granted = granted
        acc.reason = decision.reason.strip()
        acc.decided_by = decision.by
        acc.decided_at = now
        by = f" ({decision.by})" if decision.by else ""
        text = f"{decision.outcome.label}{by}"
        if granted:
            text += " : " + ", ".join(acc.granted_labels())
        if acc.reason:
            text += f". Motif : {acc.reason}"
        self._note(now, "amenagements_decision", text + ".")
        self._mail(
            MailTemplate.ACCOMMODATIONS_DECIDED,
            outcome=decision.outcome.label,
            granted="\n".join(f"  - {label}" for label in acc.granted_labels()),
            refused="\n".join(f"  - {k.label}" for k in acc.requested if k not in granted),
            reason=acc.reason,
        )

    def granted_accommodations(self) -> list[str]:
        """What the convocation and the attendance sheet print (empty when none granted)."""
        acc = self.accommodations
        if acc is None or acc.outcome in (None, AccommodationOutcome.REFUSED):
            return []
        return acc.granted_labels()

    # ----------------------------------------------------------------- convocations printed again
    # A convocation prints the accommodations granted when it was printed. When staff decide
    # later, a convocation printing something else is printed again: at once if the candidate
    # already has it (they are mailed that it changed), at its release instant otherwise (the
    # release then shows the new version, with the usual mail, and the old one never). Each
    # reprint is recorded with what it prints, so one decision orders it once.
    def printed_accommodations(self, doc: CentreDocument) -> list[str]:
        """What a convocation prints for the accommodations. A document that does not say (printed
        before this was recorded) printed the decision if it was deposited after it, else none."""
        if doc.accommodations is not None:
            return doc.accommodations
        acc = self.accommodations
        if acc is not None and acc.decided_at is not None and doc.deposited_at >= acc.decided_at:
            return self.granted_accommodations()
        return []

    @property
    def pending_convocation_reprints(self) -> list[ConvocationReprint]:
        return [r for r in self.convocation_reprints if r.pending]

    def _outdated(self, doc: CentreDocument) -> bool:
        """A convocation in force that prints other accommodations than those granted now, with
        no reprint of what is granted now ordered yet."""
        if not self.reprints_convocations or doc.kind is not CentreDocumentKind.CONVOCATION or not self._in_force(doc):
            return False
        granted = self.granted_accommodations()
        if self.printed_accommodations(doc) == granted:
            return False
        return not any(r.replaces == doc.ref and r.accommodations == granted for r in self.convocation_reprints)

    def _awaits_reprint(self, doc: CentreDocument) -> bool:
        """A convocation not released yet whose new version is due or being printed: it is not
        released, so the candidate never sees a convocation already out of date."""
        return doc.released_at is None and (
            self._outdated(doc) or any(r.replaces == doc.ref for r in self.pending_convocation_reprints)
        )

    def _convocation_reprint_due(self) -> "Due | None":
        # A convocation the candidate has is due at once (its release instant has passed).
        due = [d.release_at for d in self.documents if self._outdated(d)]
        return Due(min(due)) if due else None

    def _order_convocation_reprints(self, now: datetime) -> None:
        granted = self.granted_accommodations()
        for doc in self.documents:
            if not (self._outdated(doc) and now >= doc.release_at):
                continue
            reprint = ConvocationReprint(doc.ref, doc.exam_code or "", list(granted), now)
            exam = self.campaign.exam(doc.exam_code or "")
            if exam is None or exam.starts_at <= now:
                reprint.done_at, reprint.skipped = now, "épreuve passée"
            elif not is_convened(self.status, exam.kind):
                reprint.done_at, reprint.skipped = now, f"plus convoqué(e) ({self.status.label})"
            self.convocation_reprints.append(reprint)

    def replace_convocation(self, reprint: ConvocationReprint, document: CentreDocument, now: datetime) -> None:
        """The new version `reprint` ordered is printed: it takes the old one's place. Released at
        once if the old one was (the candidate is mailed that it changed), else at its instant."""
        reprint.done_at = now
        if any(d.ref == document.ref for d in self.documents):
            reprint.ref = document.ref  # already deposited (the same version printed again)
            return
        old = next((d for d in self.documents if d.ref == reprint.replaces), None)
        if old is None or not self._in_force(old):
            reprint.skipped = "convocation retirée"
            return
        try:
            self.check_deposit(document.kind, document.exam_code, now)
        except Refusal as refusal:
            reprint.skipped = refusal.message
            return
        reprint.ref = document.ref
        old.replaced_by = document.ref
        document.deposited_at = now
        document.release_at = now if old.released_at is not None else old.release_at
        self.documents.append(document)
        granted = self.printed_accommodations(document)
        if old.released_at is None:
            self._note(
                now, "convocation_reimprimee", f"Convocation imprimée à nouveau (aménagements) : {document.title}."
            )
            self._release_due(now)
            return
        document.released_at = now
        self._note(now, "convocation_mise_a_jour", f"Convocation mise à jour (aménagements) : {document.title}.")
        self._mail(
            MailTemplate.CONVOCATION_UPDATED,
            title=document.title,
            accommodations="\n".join(f"  - {label}" for label in granted),
        )

    def reprint_failed(self, reprint: ConvocationReprint, reason: str, now: datetime) -> None:
        """The new version could not be printed (refused): the old one stays, released as due."""
        reprint.done_at, reprint.skipped = now, reason

    def _granted(self, decision: AccommodationDecision) -> list[AccommodationKind]:
        if self.status in (Status.CANCELLED, Status.WITHDRAWN, Status.REPLACED):
            raise Refusal(f"Ce dossier est clos ({self.status.label}).")
        try:
            return check_decision(self.accommodations, decision)
        except AccommodationRefusal as refusal:
            raise Refusal(str(refusal)) from None

    # ----------------------------------------------------------------- staff actions
    def available_decisions(self, now: datetime) -> list[DecisionKind]:
        """The decisions the dossier's status allows now (the staff form offers only these;
        `check_decide` still checks what the form filled in)."""
        return [kind for kind in DecisionKind if self._decision_refusal(kind) is None]

    def _decision_refusal(self, kind: DecisionKind) -> str | None:
        """Why this kind of decision cannot be taken now, whatever its details; None if it can."""
        if self.status not in kind.allowed_from:
            return f"Décision « {kind.label} » impossible : le dossier est au statut « {self.status.label} »."
        if kind is DecisionKind.INCOMPLETE:
            if self.regularisation is not None:
                return "Une seule demande de pièces est possible par dossier ; elle a déjà été faite."
            if not self.route.documents:
                return "Aucune pièce n'est demandée pour cette voie."
        return None

    def check_decide(self, decision: Decision, now: datetime) -> None:
        kind = decision.kind
        refusal = self._decision_refusal(kind)
        if refusal is not None:
            raise Refusal(refusal)
        if kind in (DecisionKind.REJECT, DecisionKind.NON_CONFORMING) and not decision.reasons.strip():
            raise Refusal("Un rejet doit indiquer ses motifs.")
        if kind is DecisionKind.INCOMPLETE:
            if not decision.missing:
                raise Refusal("Indiquez les pièces manquantes.")
            unknown = [m for m in decision.missing if self.route.category(m) is None]
            if unknown:
                raise Refusal(f"Pièces inconnues pour cette voie : {', '.join(unknown)}.")
            if decision.deadline is None or decision.deadline <= now:
                raise Refusal("La date limite de la demande de pièces doit être dans le futur.")

    def decide(self, decision: Decision, now: datetime) -> None:
        self.check_decide(decision, now)
        kind = decision.kind
        by = f" ({decision.by})" if decision.by else ""
        if kind is DecisionKind.COMPLETE:
            self.status = Status.COMPLETE
            self._note(now, "complet", f"Dossier complet{by}.")
        elif kind is DecisionKind.INCOMPLETE:
            assert decision.deadline is not None
            self.status = Status.INCOMPLETE
            self.regularisation = Regularisation(
                requested_at=now,
                missing=list(decision.missing),
                deadline=decision.deadline,
                note=decision.reasons,
            )
            self._note(
                now,
                "incomplet",
                f"Demande de pièces{by} : {self._labels(decision.missing)}, "
                f"à transmettre avant le {self._when(decision.deadline)}.",
            )
            self._mail(
                MailTemplate.REGULARISATION,
                missing=self._labels(decision.missing),
                deadline=self._when(decision.deadline),
                note=decision.reasons,
            )
        elif kind in (DecisionKind.REJECT, DecisionKind.NON_CONFORMING):
            self.status = Status.REJECTED if kind is DecisionKind.REJECT else Status.NON_CONFORMING
            self.decision_reasons = decision.reasons
            self._note(now, str(self.status), f"{self.status.label}{by} : {decision.reasons}")
            self._mail(MailTemplate.REJECTED, status=self.status.label, reasons=decision.reasons)
        else:
            self.status = Status.ADMITTED if kind is DecisionKind.ADMIT else Status.ADMITTED_UNDER_RESERVE
            self.decision_reasons = decision.reasons
            self._note(now, str(self.status), f"{self.status.label}{by}.")
            self._mail(MailTemplate.ADMITTED, status=self.status.label, reasons=decision.reasons)

    def check_deposit(self, kind: CentreDocumentKind, exam_code: str | None, now: datetime) -> None:
        if self.status in (Status.AWAITING_DOSSIER, Status.CANCELLED, Status.REPLACED, Status.WITHDRAWN):
            raise Refusal(f"Aucun document ne peut être déposé : {self.status.label}.")
        if kind.is_for_an_exam:
            exam = self.campaign.exam(exam_code or "")
            if exam is None:
                raise Refusal(f"{kind.label} : indiquez une épreuve de la session.")
            if not is_convened(self.status, exam.kind):
                if exam.kind is ExamKind.WRITTEN:
                    raise Refusal(f"{kind.label} : le candidat n'est pas admis à concourir.")
                raise Refusal(f"{kind.label} : le candidat n'est pas admissible.")

    def deposit(self, document: CentreDocument, now: datetime) -> None:
        """Keep a centre document; convocations wait for their release instant."""
        self.check_deposit(document.kind, document.exam_code, now)
        if any(d.ref == document.ref for d in self.documents):
            raise Refusal("Ce document est déjà déposé dans le dossier.")
        document.deposited_at = now
        document.release_at = now
        if document.kind.is_for_an_exam:
            exam = self.campaign.exam(document.exam_code or "")
            assert exam is not None
            document.release_at = max(now, exam.starts_at - self.campaign.convocation_lead)
        self.documents.append(document)
        self._release_due(now)

    def available_results(self, now: datetime) -> list[ExamResult]:
        """The results the dossier's status allows now, as the staff form offers them."""
        return [result for result in ExamResult if self.status in result.allowed_from]

    def check_result(self, result: ExamResult, now: datetime) -> None:
        if self.status not in result.allowed_from:
            raise Refusal(f"Résultat « {result.value} » impossible : le dossier est au statut « {self.status.label} ».")

    def record_result(self, result: ExamResult, now: datetime) -> None:
        self.check_result(result, now)
        self.status = result.status
        self._note(now, "resultat", f"Résultat : {self.status.label}.")
        self._mail(MailTemplate.RESULT, status=self.status.label)

    def extend_deadline(self, new_deadline: datetime, now: datetime) -> None:
        """A later order moved the campaign's validation deadline; this dossier follows."""
        if new_deadline <= self.validation_deadline:
            return  # already following it (the campaign-wide message may arrive twice)
        self.validation_deadline = new_deadline
        self.campaign.validation_deadline = new_deadline
        self._note(
            now,
            "prolongation",
            f"Date limite de validation prolongée au {self._when(new_deadline)}.",
        )
        if self.status is Status.AWAITING_DOSSIER:
            self.reminders_done = [r for r in self.campaign.validation_reminders if new_deadline - r <= now]
            self._mail(MailTemplate.DEADLINE_EXTENDED, deadline=self._when(new_deadline))

    def amend_exams(self, exams: list[ExamDate], now: datetime, amended_at: datetime | None = None) -> list[str]:
        """A later order moved exam dates, venues or labels; this dossier follows.

        Exams are matched by code: a code the snapshot does not know is ignored (exams are not
        added or removed once dossiers exist, the back office refuses it), and an exam keeps its
        kind. Pending convocations and access maps of a moved exam get their release instant
        again (the lead before the new date, or now if that has passed). The candidate is
        mailed only when an exam they are convened to, or admitted to sit, moved (date or
        venue). The campaign-wide message may arrive twice, or after a later amendment: an
        amendment already applied, or older than the one the snapshot follows, changes
        nothing. Returns the codes of the exams that changed.
        """
        campaign = self.campaign
        if amended_at is not None and campaign.exams_amended_at is not None and amended_at <= campaign.exams_amended_at:
            return []
        moved: list[tuple[ExamDate, ExamDate]] = []  # (before, after): date or venue changed
        changed: list[str] = []
        for new in exams:
            current = campaign.exam(new.code)
            if current is None:
                continue
            if (current.starts_at, current.venue, current.label) == (new.starts_at, new.venue, new.label):
                continue
            before = ExamDate(current.code, current.label, current.kind, current.starts_at, current.venue)
            changed.append(current.code)
            if (current.starts_at, current.venue) != (new.starts_at, new.venue):
                moved.append((before, ExamDate(current.code, new.label, current.kind, new.starts_at, new.venue)))
            current.starts_at, current.venue, current.label = new.starts_at, new.venue, new.label
        if amended_at is not None:
            campaign.exams_amended_at = amended_at
        if not changed:
            return []
        for doc in self.documents:
            if doc.kind.is_for_an_exam and doc.exam_code in changed and doc.released_at is None and self._in_force(doc):
                exam = campaign.exam(doc.exam_code or "")
                assert exam is not None
                doc.release_at = max(now, exam.starts_at - campaign.convocation_lead)
        for code in changed:
            exam = campaign.exam(code)
            assert exam is not None
            self._note(
                now,
                "epreuve_modifiee",
                f"Épreuve modifiée : {exam.label}, le {self._when(exam.starts_at)} — {exam.venue}.",
            )
        # A past exam corrected after the fact concerns nobody any more.
        concerned = [(b, a) for b, a in moved if self._sits(b.code) and max(b.starts_at, a.starts_at) > now]
        if concerned:
            self._mail(
                MailTemplate.EXAMS_MOVED,
                exams="\n".join(
                    f"  {a.label} : le {self._when(a.starts_at)}, {a.venue}\n"
                    f"    (au lieu du {self._when(b.starts_at)}, {b.venue})"
                    for b, a in concerned
                ),
                convocations="\n".join(
                    f"  {d.title} : mise à disposition le {self._when(d.release_at)}"
                    for d in self.documents
                    if d.kind.is_for_an_exam
                    and d.exam_code in {b.code for b, _ in concerned}
                    and d.released_at is None
                    and self._in_force(d)
                    and d.release_at > now
                ),
                released="oui"
                if any(
                    d.kind.is_for_an_exam
                    and d.exam_code in {b.code for b, _ in concerned}
                    and d.released_at is not None
                    for d in self.documents
                )
                else "",
            )
        self._release_due(now)
        return changed

    def archive(self, now: datetime) -> None:
        # What fell due first still happens (say, the cancellation of a dossier archived just
        # after its deadline, before its timer was handled).
        self.run_due(now)
        self.archived = True
        self._note(now, "archive", "Dossier archivé.")

    # ----------------------------------------------------------------- what falls due
    # Each timed rule is a pair of methods, listed once in TIMED_RULES (end of the module):
    # when it falls due next (`Due`, or None), and what it does then. `run_due` applies the
    # rules in the table's order (the order of the mails and notes), `next_due` takes the
    # earliest of their instants, so the two cannot disagree.
    def run_due(self, now: datetime) -> None:
        """Apply whatever time has brought: reminders, cancellation, instruction, releases."""
        for rule in TIMED_RULES:
            due = rule.due(self)
            if due is not None and due.reached(now):
                rule.apply(self, now)

    def next_due(self) -> datetime | None:
        """The next instant at which `run_due` has something to do."""
        instants = [due.first_instant for rule in TIMED_RULES if (due := rule.due(self)) is not None]
        return min(instants, default=None)

    def _validation_reminder_due(self) -> "Due | None":
        if self.status is not Status.AWAITING_DOSSIER:
            return None
        pending = [r for r in self.campaign.validation_reminders if r not in self.reminders_done]
        return Due(min(self.validation_deadline - r for r in pending)) if pending else None

    def _remind_validation(self, now: datetime) -> None:
        # Reminders that fell due together send one mail; past the deadline, none.
        due = [
            r
            for r in self.campaign.validation_reminders
            if r not in self.reminders_done and now >= self.validation_deadline - r
        ]
        if now <= self.validation_deadline:
            self._mail(MailTemplate.VALIDATION_REMINDER, deadline=self._when(self.validation_deadline))
            self._note(now, "rappel_validation", "Rappel : demande d'inscription à valider.")
        self.reminders_done.extend(due)

    def _cancellation_due(self) -> "Due | None":
        if self.status is not Status.AWAITING_DOSSIER:
            return None
        return Due(self.validation_deadline + self.receipt_grace, after=True)

    def _cancel(self, now: datetime) -> None:
        self.status = Status.CANCELLED
        self._note(
            now,
            "annulation",
            "Préinscription annulée : la demande d'inscription n'a pas été validée avant la date limite.",
        )
        self._mail(MailTemplate.CANCELLED, deadline=self._when(self.validation_deadline))

    def _instruction_due(self) -> "Due | None":
        if self.status is not Status.TRANSFERRING or not self.uploads_reopen_at:
            return None
        return Due(self.uploads_reopen_at)

    def _start_instruction(self, now: datetime) -> None:
        self.status = Status.IN_INSTRUCTION
        self.instruction_started_at = now
        self._note(now, "instruction", "Dossier en cours d'instruction : accusé de réception envoyé.")
        self._mail(MailTemplate.ACKNOWLEDGEMENT)

    def _grace_end_due(self) -> "Due | None":
        if self.grace_end_noted or self.validated_at is None:
            return None
        return Due(self.validation_deadline + self.campaign.upload_grace + self.receipt_grace, after=True)

    def _note_grace_end(self, now: datetime) -> None:
        self.grace_end_noted = True
        self._note(now, "fin_depot", "Période de dépôt des pièces close.")

    def _regularisation_reminder_due(self) -> "Due | None":
        reg = self.regularisation
        if reg is None or self.status is not Status.INCOMPLETE or reg.reminded:
            return None
        return Due(reg.deadline - self.campaign.regularisation_reminder)

    def _remind_regularisation(self, now: datetime) -> None:
        reg = self.regularisation
        assert reg is not None
        reg.reminded = True
        if reg.deadline - self.campaign.regularisation_reminder <= reg.requested_at:
            return  # the request itself is recent enough: no second mail
        still_missing = self._still_missing(reg)
        if still_missing and now <= reg.deadline:
            self._mail(
                MailTemplate.REGULARISATION_REMINDER,
                missing=self._labels(still_missing),
                deadline=self._when(reg.deadline),
            )
            self._note(now, "rappel_pieces", "Rappel : pièces demandées à transmettre.")

    def _regularisation_expiry_due(self) -> "Due | None":
        reg = self.regularisation
        if reg is None or self.status is not Status.INCOMPLETE or reg.expired:
            return None
        return Due(reg.deadline + self.receipt_grace, after=True)

    def _expire_regularisation(self, now: datetime) -> None:
        assert self.regularisation is not None
        self.regularisation.expired = True
        self._note(now, "fin_regularisation", "Délai de transmission des pièces demandées expiré.")

    def _withholding_due(self) -> "Due | None":
        # Due as soon as the status makes a pending convocation moot; the workflow runs what is
        # due right after every message, so this never waits for a timer.
        moot = [d.deposited_at for d in self.documents if self._is_moot(d)]
        return Due(min(moot)) if moot else None

    def _document_release_due(self) -> "Due | None":
        pending = [d.release_at for d in self.documents if d.released_at is None and self._releasable(d)]
        return Due(min(pending)) if pending else None

    def _releasable(self, doc: CentreDocument) -> bool:
        """In force, and not waiting for its new version (`_awaits_reprint`)."""
        return self._in_force(doc) and not self._awaits_reprint(doc)

    # ----------------------------------------------------------------- views
    def allowed_actions(self, now: datetime) -> list[Action]:
        actions = []
        if self.status is Status.AWAITING_DOSSIER and now <= self.validation_deadline:
            actions.append(Action.VALIDATE)
        if self.uploads_window(now).open:
            actions.append(Action.UPLOAD)
        if not self.status.is_closed:
            actions.append(Action.WITHDRAW)
        if self.status not in (Status.CANCELLED, Status.WITHDRAWN, Status.REPLACED):
            actions.append(Action.CHANGE_ADDRESS)
        return actions

    def next_deadlines(self, now: datetime) -> list[tuple[str, datetime]]:
        """What comes next and by when, as the dashboard shows it."""
        items: list[tuple[str, datetime]] = []
        if self.status is Status.AWAITING_DOSSIER:
            items.append(("Date limite de validation de votre demande d'inscription", self.validation_deadline))
        window = self.uploads_window(now)
        if window.open and window.until:
            items.append(("Fin du dépôt des pièces justificatives", window.until))
        elif window.opens_at:
            items.append(("Ouverture du dépôt des pièces justificatives", window.opens_at))
        for doc in self.documents:
            if doc.released_at is None and self._in_force(doc):
                items.append((f"Mise à disposition : {doc.title}", doc.release_at))
        for exam in self.campaign.exams:
            if is_convened(self.status, exam.kind) and exam.starts_at > now:
                items.append((f"{exam.label} — {exam.venue}", exam.starts_at))
        return sorted(items, key=lambda item: item[1])

    def released_documents(self) -> list[CentreDocument]:
        """Newest first, as the space lists them."""
        released = [d for d in self.documents if d.released_at is not None and d.replaced_by is None]
        return sorted(released, key=lambda d: d.released_at or d.deposited_at, reverse=True)

    # ----------------------------------------------------------------- helpers
    @property
    def campaign(self) -> Campaign:
        return self.registration.campaign

    @property
    def route(self) -> Route:
        route = self.campaign.route(self.registration.route)
        assert route is not None, "the web checks the route at pre-registration"
        return route

    @property
    def dossier_number(self) -> str:
        return self.registration.dossier_number

    def _regularisation_open(self, now: datetime) -> bool:
        reg = self.regularisation
        return reg is not None and self.status is Status.INCOMPLETE and now <= reg.deadline

    def _files_counted_against_maximum(self, category: str, now: datetime) -> int:
        """Files in a category; a regularisation asking for it again starts a fresh count,
        so a full category (say, an unsigned form) can still be answered."""
        reg = self.regularisation
        if self._regularisation_open(now) and reg is not None and category in reg.missing:
            return sum(1 for u in self.uploads if u.category == category and u.uploaded_at >= reg.requested_at)
        return self.category_counts().get(category, 0)

    def _may_sit(self, exam_code: str | None) -> bool:
        """Whether the candidate can still sit this exam, so its convocation still makes sense."""
        exam = self.campaign.exam(exam_code or "")
        return may_sit(self.status, exam.kind if exam is not None else None)

    def _sits(self, exam_code: str) -> bool:
        """Whether the candidate is convened to this exam (a convocation or access map not
        withheld) or admitted to sit it (written exams once admitted, orals once admissible)."""
        if any(d.kind.is_for_an_exam and d.exam_code == exam_code and not d.withheld for d in self.documents):
            return self._may_sit(exam_code)
        exam = self.campaign.exam(exam_code)
        return exam is not None and is_convened(self.status, exam.kind)

    @staticmethod
    def _in_force(doc: CentreDocument) -> bool:
        """Neither withheld nor replaced by a later version."""
        return not doc.withheld and doc.replaced_by is None

    def _is_moot(self, doc: CentreDocument) -> bool:
        """A convocation not released yet for an exam the candidate can no longer sit."""
        return (
            doc.released_at is None
            and self._in_force(doc)
            and doc.kind.is_for_an_exam
            and not self._may_sit(doc.exam_code)
        )

    def _withhold_moot_documents(self, now: datetime) -> None:
        for doc in self.documents:
            if self._is_moot(doc):
                doc.withheld = True
                self._note(now, "document_retire", f"Document retiré avant sa mise à disposition : {doc.title}.")

    def _release_due(self, now: datetime) -> None:
        self._withhold_moot_documents(now)
        self._release_documents(now)

    def _release_documents(self, now: datetime) -> None:
        for doc in self.documents:
            if doc.released_at is None and self._releasable(doc) and now >= doc.release_at:
                doc.released_at = now
                self._note(now, "document", f"Document mis à disposition : {doc.title}.")
                self._mail(MailTemplate.DOCUMENT, title=doc.title, kind=doc.kind.label)

    def _still_missing(self, reg: Regularisation) -> list[str]:
        sent = {u.category for u in self.uploads if u.uploaded_at >= reg.requested_at}
        return [m for m in reg.missing if m not in sent]

    def _labels(self, categories: list[str]) -> str:
        return ", ".join(category.label if (category := self.route.category(c)) else c for c in categories)

    def _when(self, instant: datetime) -> str:
        return datetime_fr(instant, self.campaign.time_zone)

    def _note(self, now: datetime, code: str, text: str) -> None:
        self.timeline.append(TimelineEntry(at=now, code=code, text=text))

    def _mail(self, template: MailTemplate, **context: str) -> None:
        self.mails_queued += 1
        candidate = self.registration.candidate
        base = {
            "dossier_number": self.dossier_number,
            "civility": candidate.civility,
            "full_name": candidate.full_name,
            "grade": self.campaign.grade,
            "organiser": self.campaign.organiser,
            "route": self.route.label,
            "status": self.status.label,
        }
        self.outbox.append(
            Mail(
                key=f"{self.dossier_number}/{self.mails_queued}",
                template=template,
                to=candidate.email,
                context={**base, **context},
            )
        )


@dataclass(frozen=True)
class Due:
    """When a timed rule applies: from `at` on, or only once `at` has passed (`after`: a
    deadline whose last instant still counts)."""

    at: datetime
    after: bool = False

    def reached(self, now: datetime) -> bool:
        return now > self.at if self.after else now >= self.at

    @property
    def first_instant(self) -> datetime:
        """The instant a timer waits for."""
        return self.at + AFTER_DEADLINE if self.after else self.at


@dataclass(frozen=True)
class TimedRule:
    name: str
    due: Callable[[Dossier], Due | None]
    apply: Callable[[Dossier, datetime], None]  # called only once `due` is reached


# In the order `run_due` applies them: it decides the order of the mails and timeline notes,
# which the workflow's recorded histories depend on.
TIMED_RULES: tuple[TimedRule, ...] = (
    TimedRule("validation_reminder", Dossier._validation_reminder_due, Dossier._remind_validation),
    TimedRule("cancellation", Dossier._cancellation_due, Dossier._cancel),
    TimedRule("instruction", Dossier._instruction_due, Dossier._start_instruction),
    TimedRule("grace_end", Dossier._grace_end_due, Dossier._note_grace_end),
    TimedRule("regularisation_reminder", Dossier._regularisation_reminder_due, Dossier._remind_regularisation),
    TimedRule("regularisation_expiry", Dossier._regularisation_expiry_due, Dossier._expire_regularisation),
    TimedRule("withholding", Dossier._withholding_due, Dossier._withhold_moot_documents),
    # Before the release: a convocation out of date at its release instant waits for its reprint.
    TimedRule("convocation_reprint", Dossier._convocation_reprint_due, Dossier._order_convocation_reprints),
    TimedRule("release", Dossier._document_release_due, Dossier._release_documents),
)
