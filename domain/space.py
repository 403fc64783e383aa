"""What the candidate's space may offer now: actions, the upload window, each document
category's upload slot. The dossier computes these; pages only show them."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass
class UploadWindow:
    open: bool
    until: datetime | None = None  # when it closes, if open
    opens_at: datetime | None = None  # when it opens next, if known
    reason: str = ""  # why it is closed, in French


@dataclass
class UploadSlot:
    """One document category of the route, and whether a file can be added to it now."""

    code: str
    label: str
    count: int  # files in the category
    max_files: int
    asked: bool  # requested by the open regularisation
    can_upload: bool
    reason: str = ""  # why not, in French (the refusal `check_upload` would give)


class Action(StrEnum):
    """What the candidate may do now; pages show only these."""

    VALIDATE = "valider"
    UPLOAD = "deposer"
    WITHDRAW = "se_desister"
    CHANGE_ADDRESS = "changer_adresse"
