from django import forms
from django.utils.translation import gettext_lazy as _

from .services import MAX_TOKEN_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What will use it, for example “ministry dashboard”."))
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, initial=90, help_text=_("Between 1 and 366 days.")
    )
