"""Words people read for Courier's machine values."""

from .courier import ChannelClassification

CHANNEL_LABELS: dict[ChannelClassification, str] = {
    ChannelClassification.EMAIL: "Email",
    ChannelClassification.PUSH: "Push notification",
    ChannelClassification.SMS: "Text message (SMS)",
    ChannelClassification.INBOX: "In-app inbox",
    ChannelClassification.DIRECT_MESSAGE: "Chat message",
    ChannelClassification.WEBHOOK: "Webhook",
}


def channel_label(channel: ChannelClassification) -> str:
    """Return the human name of a channel."""
    return CHANNEL_LABELS[channel]


def channel_list(channels: tuple[ChannelClassification, ...]) -> str:
    """Return channels as a phrase: "Email, Push notification and In-app inbox"."""
    names = [channel_label(channel) for channel in channels]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
