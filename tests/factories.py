"""factory_boy factories for the portal's models. Countries and tracks come from the data migrations."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from announcements.models import Announcement
from core import roles
from countries.models import Counterpart, Country, LiaisonAssignment
from engagements.models import Agreement, Engagement, FollowUp
from infrastructure.models import CapacityPhase, Facility, FacilityPartner, Organisation
from tracks.models import Stage, Track


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


def make_user(role=None, *, countries=(), **kwargs):
    """A user with a role (``core.roles`` name) and, for a liaison, assigned countries (iso2 codes)."""
    user = UserFactory(role=role, **kwargs)
    for code in countries:
        LiaisonAssignment.objects.get_or_create(user=user, country=country(code))
    return user


def staff(**kwargs):
    return make_user(roles.STAFF, **kwargs)


def liaison(*codes, **kwargs):
    return make_user(roles.LIAISON, countries=codes, **kwargs)


def viewer(**kwargs):
    return make_user(roles.VIEWER, **kwargs)


def country(code: str) -> Country:
    return Country.objects.get(iso2=code)


def track(key: str) -> Track:
    return Track.objects.get(key=key)


def stage(track_key: str, stage_key: str) -> Stage:
    return Stage.objects.get(track__key=track_key, key=stage_key)


class CounterpartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counterpart

    country = factory.LazyFunction(lambda: country("GB"))
    name = factory.Faker("name")
    title = "Director of Digital"
    organisation = "Ministry of Science"


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    country = factory.LazyFunction(lambda: country("GB"))
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    kind = Engagement.Kind.MEETING
    summary = "Discussed the skills programme."

    @factory.post_generation
    def tracks(self, create, extracted, **kwargs):
        if create and extracted:
            self.tracks.set(extracted, through_defaults=self.track_link_fields())


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    country = factory.LazyFunction(lambda: country("GB"))
    description = "Send the draft memorandum"
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    country = factory.LazyFunction(lambda: country("GB"))
    kind = Agreement.Kind.MOU
    title = "Memorandum of understanding on AI skills"
    signed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class AnnouncementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Announcement

    title = "New partnership announced"
    body = "Text of the announcement."


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Compute Partner {n}")


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    country = factory.LazyFunction(lambda: country("GB"))
    name = factory.Sequence(lambda n: f"National AI Facility {n}")
    status = Facility.Status.PLANNED


class CapacityPhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapacityPhase

    facility = factory.SubFactory(FacilityFactory)
    online_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))
    power_mw = 10


class FacilityPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilityPartner

    facility = factory.SubFactory(FacilityFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = FacilityPartner.Role.BUILDER


def token_and_api_client(user, name: str = "sync", days: int = 30):
    """A fresh API token of ``user`` and an APIClient that sends it (``Authorization: Token …``)."""
    from rest_framework.test import APIClient

    from core.services import api_token_create

    token, secret = api_token_create(actor=user, user=user, name=name, days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return token, client
