import unicodedata

from django.db import connection, models
from django.db.models import F
from django.db.models.functions import Collate
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def sort_key(text: str) -> str:
    """The key that sorts names as readers expect in English and French: accents and case set aside ("Égypte"
    between "Équateur"... and "Espagne", not after "Viêt Nam"), the same in Python, on SQLite and on PostgreSQL
    (stored in a column where the database sorts)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().replace("’", "'")


def is_french() -> bool:
    return (get_language() or "en").startswith("fr")


def name_order(prefix: str = "") -> str:
    """The field to ``order_by`` for names in the reader's language (``prefix``: the path to the named row, like
    ``"country__"``): the stored sort key of that language."""
    field = f"{prefix}sort_fr" if is_french() else f"{prefix}sort_en"
    if connection.vendor == "postgresql":  # byte order, as SQLite and Python sort, whatever the database's collation
        return Collate(F(field), "C")
    return field


class TranslatedNameModel(models.Model):
    """Abstract base for reference rows named in English and French (``name`` follows the language)."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        if is_french() and self.name_fr:
            return self.name_fr
        return self.name_en
