from django.utils.translation import gettext_lazy

from core import country_codes
from core.api.fields import KeyRelatedField, UsernameField
from countries.models import Country
from countries.policies import OWNER_REFUSED

# At least every country there is: an announcement may name the whole world (249 ISO 3166-1 codes).
MAX_COUNTRIES = 300


class CountryCodeField(KeyRelatedField):
    """A country as its ISO alpha-2 code, either case on input; anything but two ASCII letters is refused."""

    default_error_messages = {"not_a_code": 'Give a country as its two-letter ISO code, for example "GB".'}
    max_items = MAX_COUNTRIES

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "iso2")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Country.objects.all())
        super().__init__(**kwargs)

    def to_key(self, data):
        # Checked before the case is folded: "ß".upper() is "SS" (core.country_codes).
        code = country_codes.parse(data)
        if code is None:
            self.fail("not_a_code")
        return code


class OwnerField(UsernameField):
    """The owner of a country's work, by user name. A name that names nobody (or an inactive user) is refused with
    the same words as a user who does not work on the country (``countries.policies.ensure_may_own_work``), so
    the answer does not tell which user names exist."""

    default_error_messages = {"does_not_exist": gettext_lazy(OWNER_REFUSED), "invalid": gettext_lazy(OWNER_REFUSED)}
