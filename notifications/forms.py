from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.i18n import name_order
from core.idempotency import OneTimeTokenForm
from countries.models import Country
from tracks.models import Track

from .models import CalendarFeed, Preference


class PreferencesForm(forms.Form):
    email_frequency = forms.ChoiceField(label=_("E-mail"), choices=Preference.Frequency.choices, widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=settings.LANGUAGES)
    programme = forms.BooleanField(label=_("Everything in the programme"), required=False)
    countries = forms.ModelMultipleChoiceField(
        label=_("Countries I follow"),
        queryset=Country.objects.filter(partnership__isnull=False).order_by("name_en"),
        required=False,
        help_text=_("Liaisons always hear about their own countries."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    tracks = forms.ModelMultipleChoiceField(
        label=_("Tracks I follow"),
        queryset=Track.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].queryset = self.fields["countries"].queryset.order_by(name_order())  # reader's language


class CalendarFeedForm(OneTimeTokenForm):
    """Create a calendar feed; sending the same input twice with the page's token creates one."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Where you will add it, for example “work Outlook”."))
    scope = forms.ChoiceField(
        label=_("Follow-ups in the feed"),
        choices=CalendarFeed.Scope.choices,
        initial=CalendarFeed.Scope.MINE,
        widget=forms.RadioSelect,
    )
