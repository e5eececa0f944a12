"""Talking to Courier: the client, its typed models and its error tree."""

from .client import DEFAULT_BASE_URL, CourierClient
from .errors import (
    CourierError,
    CourierMalformedResponse,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
)
from .models import (
    CatalogTopic,
    ChannelClassification,
    PreferenceStatus,
    PreferenceUpdate,
    Section,
    TopicPreference,
)
from .retries import NO_RETRIES, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "NO_RETRIES",
    "RetryPolicy",
    "CatalogTopic",
    "ChannelClassification",
    "CourierClient",
    "CourierError",
    "CourierMalformedResponse",
    "CourierNotFound",
    "CourierRejected",
    "CourierUnavailable",
    "PreferenceStatus",
    "PreferenceUpdate",
    "Section",
    "TopicPreference",
]
