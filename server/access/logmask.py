"""INS values never reach a log line (SGL.INS.05, issue 11 item 9): a logging filter on every handler
rewrites the message, its arguments and any traceback, replacing NIR/NIA-shaped matricules (13
characters, Corsica's 2A/2B included, with or without their 2-digit key) by a mark. It covers the
HTTP access log (``GET /fhir/Patient?identifier=...|279035121518989``) and error messages that
quote a matricule and its expected key."""

from __future__ import annotations

import logging
import re

MARK = "[INS masqué]"
_MATRICULE = re.compile(r"(?:(?<![0-9A-Za-z])|(?<=%7[Cc]))[1-478]\d{4}(?:\d{2}|2[AaBb])\d{6}(?:\d{2})?(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    return _MATRICULE.sub(MARK, text)


class InsLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def install_ins_log_filter() -> None:
    """On every handler of the root logger (uvicorn's loggers propagate to it: ``log_config=None``)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, InsLogFilter) for f in handler.filters):
            handler.addFilter(InsLogFilter())
