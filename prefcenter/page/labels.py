"""Words people read for Courier's machine values."""

from flask_babel import lazy_gettext

from ..courier import ChannelClassification
from ..platform.i18n import and_list

CHANNEL_LABELS = {
    ChannelClassification.EMAIL: lazy_gettext("Email"),
    ChannelClassification.PUSH: lazy_gettext("Push notification"),
    ChannelClassification.SMS: lazy_gettext("Text message (SMS)"),
    ChannelClassification.INBOX: lazy_gettext("In-app inbox"),
    ChannelClassification.DIRECT_MESSAGE: lazy_gettext("Chat message"),
    ChannelClassification.WEBHOOK: lazy_gettext("Webhook"),
}


def channel_label(channel: ChannelClassification) -> str:
    """Return the human name of a channel, in the page's language."""
    return str(CHANNEL_LABELS[channel])


def channel_list(channels: tuple[ChannelClassification, ...]) -> str:
    """Return channels as a phrase: "Email, Push notification and In-app inbox"."""
    return and_list([channel_label(channel) for channel in channels])
