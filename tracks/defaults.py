"""The programme's default tracks and stage ladder (seeded by a data migration; editable as data)."""

DEFAULT_STALLED_AFTER_DAYS = 60

# key, English, French
DEFAULT_TRACKS = [
    ("workforce", "Workforce training", "Formation de la main-d'œuvre"),
    ("public_services", "Public-service improvement", "Amélioration des services publics"),
    ("safety_standards", "AI safety standards", "Normes de sûreté de l'IA"),
    ("data_centres", "Data centres and supercomputers", "Centres de données et supercalculateurs"),
]

# key, English, French, kind, stalled after (days; None = never stalls)
DEFAULT_STAGES = [
    ("not_started", "Not started", "Pas commencé", "ladder", None),
    ("exploring", "Exploring", "Exploration", "ladder", DEFAULT_STALLED_AFTER_DAYS),
    ("negotiating", "Negotiating", "Négociation", "ladder", DEFAULT_STALLED_AFTER_DAYS),
    ("agreed", "Agreed", "Accord conclu", "ladder", DEFAULT_STALLED_AFTER_DAYS),
    ("implementing", "Implementing", "Mise en œuvre", "ladder", DEFAULT_STALLED_AFTER_DAYS),
    ("operational", "Operational", "Opérationnel", "ladder", 180),
    ("paused", "Paused", "En pause", "paused", None),
    ("withdrawn", "Withdrawn", "Retiré", "withdrawn", None),
]


def create_default_stages(stage_model, track) -> list:
    """Create the default ladder for ``track`` (used by the migration and by ``track_create``)."""
    return stage_model.objects.bulk_create(
        [
            stage_model(
                track=track,
                key=key,
                name_en=name_en,
                name_fr=name_fr,
                kind=kind,
                position=position,
                stalled_after_days=stalled,
            )
            for position, (key, name_en, name_fr, kind, stalled) in enumerate(DEFAULT_STAGES)
        ]
    )
