import re

import pytest
from django.core import mail

from accounts import services
from core import roles
from tests import factories


@pytest.fixture
def invite(staff_user, django_capture_on_commit_callbacks):
    """Invite someone as programme staff; returns (invitation, the link's token read from the e-mail sent)."""

    def make(email="new.person@example.gov", role=roles.LIAISON, countries=("GB",), **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = services.user_invite(
                actor=kwargs.pop("actor", staff_user),
                email=email,
                first_name=kwargs.pop("first_name", "Ada"),
                last_name=kwargs.pop("last_name", "Okafor"),
                role=role,
                countries=[factories.country(c) for c in countries],
            )
        return invitation, token

    return make


def link_in_last_email() -> str:
    found = re.search(r"https?://\S+/invitations/(\S+)/", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(0)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]
