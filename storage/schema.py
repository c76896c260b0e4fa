"""Every model module, imported in one place so the metadata (migrations, rotation) sees all tables.

A feature's tables live in `storage/models_<feature>.py`; add its import here.
"""

from storage import (  # noqa: F401
    models,
    models_appointments,
    models_casework,
    models_channels,
    models_erasure,
    models_feedback,
    models_figures,
    models_journey,
    models_keys,
    models_ops,
    models_organisation,
    models_outreach,
    models_plan,
    models_reminders,
    models_retention,
    models_staff_alerts,
    models_staff_link,
    models_webhook,
)
from storage.models import Base

ENCRYPTED_MODELS = tuple(
    sorted(
        (mapper.class_ for mapper in Base.registry.mappers if mapper.class_.__encrypted__),
        key=lambda model: model.__tablename__,
    )
)
