"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

api = NinjaAPI(title="Needlecare API", version="1", urls_namespace="api",
               openapi_url="/openapi.json", docs_url="/docs")
