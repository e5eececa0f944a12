"""Talking to Courier: the client, its typed models and its error tree."""

from .client import DEFAULT_BASE_URL, ChannelPlan, CourierClient, sendable_id
from .errors import (
    CourierError,
    CourierMalformedResponse,
    CourierNotFound,
    CourierRejected,
    CourierUnavailable,
    InvalidIdentifier,
)
from .models import (
    KEEP_DIGEST,
    CatalogTopic,
    ChangeLogPage,
    Channel,
    ChannelClassification,
    DigestSchedule,
    LoggedValue,
    PreferenceChange,
    PreferenceStatus,
    PreferenceUpdate,
    Section,
    TopicDefault,
    TopicPreference,
    channel_of,
)
from .retries import NO_RETRIES, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "NO_RETRIES",
    "RetryPolicy",
    "CatalogTopic",
    "ChangeLogPage",
    "Channel",
    "ChannelPlan",
    "ChannelClassification",
    "CourierClient",
    "CourierError",
    "CourierMalformedResponse",
    "CourierNotFound",
    "CourierRejected",
    "CourierUnavailable",
    "DigestSchedule",
    "KEEP_DIGEST",
    "InvalidIdentifier",
    "LoggedValue",
    "PreferenceChange",
    "PreferenceStatus",
    "PreferenceUpdate",
    "Section",
    "TopicDefault",
    "TopicPreference",
    "channel_of",
    "sendable_id",
]
