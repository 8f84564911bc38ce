from typing import Any

from django.apps import AppConfig
from django.core import checks


class DocumentsConfig(AppConfig):
    name = "needlecare.documents"
    verbose_name = "Patient documents (PDFs and calendar files)"

    def ready(self) -> None:
        checks.register(pdf_rendering_works, checks.Tags.compatibility)


def pdf_rendering_works(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """WeasyPrint needs Pango, HarfBuzz and fontconfig from the system. Without them every
    page but the PDF downloads still works, so this is a warning, said once at start-up."""
    try:
        # Imported by the check, which runs once the app registry is ready.
        from needlecare.documents.pdf import weasyprint

        weasyprint()
    except (ImportError, OSError) as exc:
        return [checks.Warning(
            f"PDF documents cannot be made: WeasyPrint does not load ({exc}).",
            hint="On Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                 "libharfbuzz-subset0 fonts-dejavu-core",
            id="documents.W001")]
    return []
