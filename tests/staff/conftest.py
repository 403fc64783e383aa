"""Back-office page tests: staff clients of each role, dossiers on the prompt-instruction queue."""

from tests.backoffice import cheap_staff_hashing, prompt_queue, staff  # noqa: F401  (fixtures)
