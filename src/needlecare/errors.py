"""Refusals a service gives for business reasons (not programming errors).

Views show ``message`` on the form they re-render; the API answers 4xx with ``code`` and
``message``. Nothing has been written when one is raised: services raise before they write,
or inside the transaction that is then rolled back.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
