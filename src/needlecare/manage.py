"""Django's manage.py, importable so that the `needlecare` console script can wrap it."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    # After the settings module is named: Django reads it when this is imported.
    from django.core.management import execute_from_command_line

    execute_from_command_line(["needlecare", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
