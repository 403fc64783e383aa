"""Secrets never reach the access log.

A password-reset link carries its single-use token in the query string (`?jeton=`): a mail
client opens it with a plain GET, and pages must work without JavaScript, so the token cannot
travel otherwise on that first request. The request line is what uvicorn's access log writes:
this filter, on the `uvicorn.access` logger, replaces the value of every secret parameter by
`[masqué]` before any handler formats the line. It is installed by `create_app`, so any way of
serving the app (the run command, the Docker image, a test server) gets it. A reverse proxy in
front keeps its own logs: configure it likewise (README, « Sécurité et données personnelles »).
"""

from __future__ import annotations

import logging
import re

from web.password_reset import TOKEN_PARAMETER

SECRET_PARAMETERS = (TOKEN_PARAMETER,)
REDACTED = "[masqué]"
_SECRET_VALUE = re.compile(rf"([?&](?:{'|'.join(map(re.escape, SECRET_PARAMETERS))})=)[^&#\s\"]*")


def redact(text: str) -> str:
    return _SECRET_VALUE.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites the record's message and arguments (uvicorn passes the path as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Once per logger, however many apps the process creates."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
