"""The county office registers a work unit's canteen in the admin; no other role may."""

from __future__ import annotations

import pytest

from core import roles
from marketplace.canteens.models import Canteen
from tests.canteens.factories import buyer, canteen
from tests.households.factories import UserFactory
from tests.marketplace.factories import EmployerFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/snippets/canteens/canteen/add/"


def test_the_county_office_registers_a_canteen_and_finds_it_in_the_list(client):
    employer = EmployerFactory(code="E-ADM", name="县教育局")
    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    r = client.post(ADD, {"employer": employer.pk, "code": "CT-ADM", "name": "县教育局食堂", "delivery_address": "城关镇", "active": "on"})
    assert r.status_code == 302, r.content.decode()[:500]
    made = Canteen.objects.get(code="CT-ADM")
    assert made.employer == employer and made.name == "县教育局食堂"
    html = client.get("/admin/snippets/canteens/canteen/").content.decode()
    assert "县教育局食堂" in html and "食堂" in html


@pytest.mark.parametrize("role", [roles.SUPERMARKET_STAFF, roles.SORTING_STATION_STAFF, roles.CANTEEN_BUYER])
def test_other_roles_cannot_register_or_edit_canteens(client, role):
    existing = canteen("CT-X")
    user = buyer(existing) if role == roles.CANTEEN_BUYER else UserFactory(role=role)
    client.force_login(user)
    employer = EmployerFactory(code="E-NO")
    r = client.post(ADD, {"employer": employer.pk, "code": "CT-NO", "name": "不该有", "active": "on"})
    assert r.status_code in (302, 403) and not Canteen.objects.filter(code="CT-NO").exists()
    r = client.post(f"/admin/snippets/canteens/canteen/edit/{existing.pk}/", {"employer": existing.employer_id, "code": "CT-X", "name": "改名"})
    assert r.status_code in (302, 403)
    assert Canteen.objects.get(pk=existing.pk).name != "改名"
