"""What the container walks report when a file's structure is wrong."""

from __future__ import annotations


class ContainerError(ValueError):
    """The file's structure is broken; ``code`` is ``truncated``, ``trailing_data`` or
    ``malformed``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
