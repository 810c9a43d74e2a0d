import datetime
import pytest
from django.core.exceptions import ValidationError
from tests import factories
from infrastructure import services as infra
from countries import services as cs
from partnerships import services as ps

def test_probe(staff_user, gb, gb_liaison):
    print(str(gb))
    f = infra.facility_create(actor=staff_user, country=gb, name="X")
    org = infra.organisation_create(actor=staff_user, name="Org")
    infra.facility_partner_add(actor=staff_user, facility=f, organisation=org, role="builder")
    for call in [
        lambda: infra.facility_partner_add(actor=staff_user, facility=f, organisation=org, role="builder"),
        lambda: infra.facility_create(actor=staff_user, country=gb, name="Y", latitude=91),
        lambda: infra.facility_create(actor=staff_user, country=gb, name="Y", announced_on=datetime.date(2024,1,2), expected_online=datetime.date(2024,1,1)),
        lambda: infra.capacity_phase_add(actor=staff_user, facility=f, online_on=datetime.date(2025,1,1), power_mw=-1),
        lambda: ps.agreement_create(actor=staff_user, country=gb, kind="mou", title="t", signed_on=datetime.date(2024,1,2), expires_on=datetime.date(2024,1,1)),
        lambda: cs.counterpart_create(actor=staff_user, country=gb, name="A", active_from=datetime.date(2024,1,2), active_to=datetime.date(2024,1,1)),
        lambda: infra.organisation_create(actor=staff_user, name="Org"),
    ]:
        with pytest.raises(ValidationError) as e:
            call()
        print(e.value.message_dict)
    assert 0
