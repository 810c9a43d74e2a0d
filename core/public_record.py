"""Reads of the public record's provenance: which facts, from which sources, stand behind a record."""

from django.contrib.contenttypes.models import ContentType

from .models import PublicRecordSource


def sources_for(subject) -> list[PublicRecordSource]:
    """The public-record facts attached to ``subject`` (empty for illustrative or hand-entered records)."""
    if subject is None or subject.pk is None:
        return []
    content_type = ContentType.objects.get_for_model(subject)
    return list(PublicRecordSource.objects.filter(content_type=content_type, object_id=subject.pk))


def database_holds_public_record() -> bool:
    return PublicRecordSource.objects.exists()


EPOCH_ATTRIBUTION = "Data: Epoch AI, CC BY"


def database_holds_epoch_data() -> bool:
    return PublicRecordSource.objects.filter(source_text__startswith=EPOCH_ATTRIBUTION).exists()
