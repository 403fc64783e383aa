"""Operators' tools tests: staff clients and prompt-instruction dossiers, as for the staff pages."""

from tests.backoffice import cheap_staff_hashing, prompt_queue, staff  # noqa: F401  (fixtures)
