"""Reads of the public record's provenance: which facts, from which sources, stand behind a record."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, Value

from .models import DemoDataset, PublicRecordSource


def sources_for(subject) -> list[PublicRecordSource]:
    """The public-record facts attached to ``subject`` (empty for illustrative or hand-entered records)."""
    if subject is None or subject.pk is None:
        return []
    content_type = ContentType.objects.get_for_model(subject)
    return list(PublicRecordSource.objects.filter(content_type=content_type, object_id=subject.pk))


def database_holds_public_record() -> bool:
    return PublicRecordSource.objects.exists()


def datasets_held() -> set[str]:
    """Which data the database holds, in one query: "demo" (seed_demo's illustrative data), "public" (the record)."""
    demo = DemoDataset.objects.order_by().annotate(held=Value("demo")).values_list("held", flat=True)
    public = PublicRecordSource.objects.order_by().annotate(held=Value("public")).values_list("held", flat=True)
    return set(demo.union(public))


EPOCH_ATTRIBUTION = "Data: Epoch AI, CC BY"


def database_holds_epoch_data() -> bool:
    return PublicRecordSource.objects.filter(source_text__startswith=EPOCH_ATTRIBUTION).exists()


def record_key(subject) -> str:
    return f"{subject._meta.label_lower}:{subject.pk}"


def sources_by_record(records) -> dict[str, list[PublicRecordSource]]:
    """The facts behind each of ``records`` (of any models), in one query, keyed by ``record_key``."""
    ids_by_type: dict = {}
    for record in records:
        if record is not None and record.pk is not None:
            ids_by_type.setdefault(ContentType.objects.get_for_model(record), set()).add(record.pk)
    if not ids_by_type:
        return {}
    condition = Q()
    for content_type, ids in ids_by_type.items():
        condition |= Q(content_type=content_type, object_id__in=ids)
    found: dict[str, list[PublicRecordSource]] = {}
    for source in PublicRecordSource.objects.filter(condition).select_related("content_type"):
        found.setdefault(f"{source.content_type.app_label}.{source.content_type.model}:{source.object_id}", []).append(source)
    return found
