import pytest

from needlecare.care.models import TreatmentSession
from tests.factories import journey_to_signed_session


@pytest.mark.django_db
def test_a_full_synthetic_journey_can_be_built() -> None:
    j = journey_to_signed_session()
    assert TreatmentSession.objects.get(pk=j["session"].pk).is_signed
    assert j["consultation"].verdict == "suitable"
