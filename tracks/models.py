"""The programme's tracks and the stage ladder of each."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.i18n import TranslatedNameModel


class Track(TranslatedNameModel):
    """A line of work of the programme (workforce, public services, safety standards, data centres...)."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "partnerships_track"  # the table kept its name when the model moved here
        verbose_name = _("track")
        verbose_name_plural = _("tracks")
        ordering = ["position", "key"]


class Stage(TranslatedNameModel):
    """One stage of a track: a rung of its ordered ladder, or a side state (paused, withdrawn)."""

    class Kind(models.TextChoices):
        LADDER = "ladder", _("Ladder")
        PAUSED = "paused", _("Paused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    track = models.ForeignKey(Track, verbose_name=_("track"), on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(_("key"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LADDER)
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("Order on the ladder, from 0 (not started). Side states come after the ladder.")
    )
    stalled_after_days = models.PositiveSmallIntegerField(
        _("stalled after (days)"),
        null=True,
        blank=True,
        help_text=_("A track in this stage with no engagement for longer than this is stalled. Empty: never stalls."),
    )

    class Meta:
        db_table = "partnerships_stage"  # the table kept its name when the model moved here
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["track__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "key"], name="unique_stage_key_per_track"),
            models.UniqueConstraint(fields=["track", "position"], name="unique_stage_position_per_track"),
            models.UniqueConstraint(
                fields=["track", "kind"],
                condition=~Q(kind="ladder"),
                name="one_paused_and_one_withdrawn_stage_per_track",
                violation_error_message=_("A track has exactly one paused and one withdrawn state."),
            ),
        ]

    @property
    def is_side_state(self) -> bool:
        return self.kind != self.Kind.LADDER
