"""Bulk action tests: hundreds of dossiers on the prompt-instruction queue, a worker to stop."""

from tests.backoffice import cheap_staff_hashing, prompt_queue, staff  # noqa: F401  (fixtures)
