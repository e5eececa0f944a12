"""The demo workspace (fixed ids other code and tests rely on), its extras, a big catalog."""

from __future__ import annotations

from .models import SectionInput, TopicInput
from .store import Store

DEMO_USER_ID = "demo-user"
# The demo person's profile: the address POST /send delivers to (into the outbox, nowhere real).
DEMO_USER_EMAIL = "demo@example.com"

SECTION_ACCOUNT = "sec_account"
SECTION_ACTIVITY = "sec_activity"
SECTION_NEWS = "sec_news"

TOPIC_SECURITY = "pt_security_alerts"
TOPIC_BILLING = "pt_billing"
TOPIC_COMMENTS = "pt_comments"
TOPIC_REMINDERS = "pt_task_reminders"
TOPIC_PRODUCT_UPDATES = "pt_product_updates"
TOPIC_DIGEST = "pt_weekly_digest"
TOPIC_EVENTS = "pt_events"

# Uncatalogued topics in the legacy 28-character id format: users hold them, no section lists them.
LEGACY_TOPIC_GROUPED = "FW0YU64P4TMYKMMHH67D6FENX8VS"
LEGACY_TOPIC_PLAIN = "74Q4QGFBEX481DP6JRPMV751H4XT"
LEGACY_GROUP_NAME = "Legacy notifications"

# The digest seed_digest_schedules gives TOPIC_PRODUCT_UPDATES.
DIGEST_TEMPLATE = "tpl_product_updates"
SCHEDULE_INSTANT = "sch_instant"
SCHEDULE_DAILY = "sch_daily"
SCHEDULE_WEEKLY = "sch_weekly"
_PRODUCT_UPDATES_DIGEST = {
    "template_id": DIGEST_TEMPLATE,
    "schedules": [
        {"schedule_id": SCHEDULE_INSTANT, "frequency": "instant"},
        {
            "schedule_id": SCHEDULE_DAILY,
            "frequency": "daily",
            "time": "09:00",
            "timezone": "Europe/Berlin",
        },
        {
            "schedule_id": SCHEDULE_WEEKLY,
            "frequency": "weekly",
            "day_of_week": "monday",
            "time": "09:00",
            "timezone": "Europe/Berlin",
            "is_default": True,
        },
    ],
}

# (section id, section fields, [(topic id, topic fields), ...]) in page order.
_DEMO_WORKSPACE: list[tuple[str, SectionInput, list[tuple[str, TopicInput]]]] = [
    (
        SECTION_ACCOUNT,
        SectionInput(
            name="Account and security",
            description="Messages about your account and its safety.",
            has_custom_routing=True,
            routing_options=("email", "sms", "push"),
        ),
        [
            (
                TOPIC_SECURITY,
                TopicInput(
                    name="Security alerts",
                    default_status="REQUIRED",
                    description=(
                        "New sign-ins, password changes and other things we must tell you about."
                    ),
                ),
            ),
            (
                TOPIC_BILLING,
                TopicInput(
                    name="Billing and receipts",
                    default_status="OPTED_IN",
                    description="Invoices, receipts and payment problems.",
                ),
            ),
        ],
    ),
    (
        SECTION_ACTIVITY,
        SectionInput(
            name="Activity",
            description="Updates about the work you follow.",
            has_custom_routing=True,
            routing_options=("email", "push", "inbox"),
        ),
        [
            (
                TOPIC_COMMENTS,
                TopicInput(
                    name="Comments and mentions",
                    default_status="OPTED_IN",
                    description="When someone replies to you or mentions you.",
                ),
            ),
            (
                TOPIC_REMINDERS,
                TopicInput(
                    name="Task reminders",
                    default_status="OPTED_IN",
                    description="Reminders before a task you own is due.",
                ),
            ),
        ],
    ),
    (
        SECTION_NEWS,
        SectionInput(
            name="News and offers",
            description="What is new, now and then.",
            has_custom_routing=False,
            routing_options=("email",),
        ),
        [
            (
                TOPIC_PRODUCT_UPDATES,
                TopicInput(
                    name="Product updates",
                    default_status="OPTED_IN",
                    description="New features and improvements, about once a month.",
                ),
            ),
            (
                TOPIC_DIGEST,
                TopicInput(
                    name="Weekly digest",
                    default_status="OPTED_OUT",
                    description="A summary of the week's activity, every Monday.",
                ),
            ),
            (
                TOPIC_EVENTS,
                TopicInput(
                    name="Events and webinars",
                    default_status="OPTED_OUT",
                    description="Invitations to live sessions and meetups.",
                ),
            ),
        ],
    ),
]

_CYCLE_STATUSES = ("OPTED_IN", "OPTED_OUT", "REQUIRED")
_CYCLE_CHANNELS = ("email", "push", "sms", "inbox")


def seed_demo_workspace(store: Store) -> bool:
    """Create the demo workspace if the catalog is empty; True when it seeded."""
    # Seeding only an empty catalog keeps restarts on a file database from duplicating it.
    if not store.catalog_is_empty():
        return False
    for section_id, section, topics in _DEMO_WORKSPACE:
        store.create_section(section, section_id=section_id)
        for topic_id, topic in topics:
            store.create_topic(section_id, topic, topic_id=topic_id)
    store.merge_profile(DEMO_USER_ID, {"email": DEMO_USER_EMAIL})
    return True


def seed_legacy_topics(store: Store) -> list[str]:
    """Create the two uncatalogued demo topics that are missing; returns the ids it created."""
    legacy = [
        (LEGACY_TOPIC_GROUPED, "Account digest (legacy)", LEGACY_GROUP_NAME),
        (LEGACY_TOPIC_PLAIN, "Partner offers", None),
    ]
    created = []
    for topic_id, name, group in legacy:
        if not store.topic_exists(topic_id):  # a file database keeps them across restarts
            store.create_legacy_topic(topic_id, name, "OPTED_IN", section_name=group)
            created.append(topic_id)
    return created


def seed_digest_schedules(store: Store) -> bool:
    """Give the demo's product updates a digest (instant, daily, weekly by default) once.

    Raises NotFound when the demo workspace is not there; False when the digest already is.
    """
    if "digest" in store.get_topic(SECTION_NEWS, TOPIC_PRODUCT_UPDATES):
        return False
    store.set_topic_digest(SECTION_NEWS, TOPIC_PRODUCT_UPDATES, _PRODUCT_UPDATES_DIGEST)
    return True


def seed_catalog(store: Store, sections: int, topics_per_section: int) -> list[str]:
    """Create a big deterministic catalog through ``store``; returns its topic ids in page order."""
    # Section i (1-based) is sec_cat_{i:03d} and its topic j is pt_cat_{i:03d}_{j:03d}; default
    # statuses cycle OPTED_IN, OPTED_OUT, REQUIRED over topics in page order; odd sections allow
    # custom routing. Fixed ids let tests name topics without listing the catalog first.
    topic_ids: list[str] = []
    for i in range(1, sections + 1):
        section_id = f"sec_cat_{i:03d}"
        store.create_section(
            SectionInput(
                name=f"Section {i}",
                description=f"Generated section {i}.",
                has_custom_routing=i % 2 == 1,
                routing_options=_CYCLE_CHANNELS[: 1 + i % len(_CYCLE_CHANNELS)],
            ),
            section_id=section_id,
        )
        for j in range(1, topics_per_section + 1):
            topic_id = f"pt_cat_{i:03d}_{j:03d}"
            store.create_topic(
                section_id,
                TopicInput(
                    name=f"Topic {i}.{j}",
                    default_status=_CYCLE_STATUSES[len(topic_ids) % len(_CYCLE_STATUSES)],
                    description=f"Generated topic {j} of section {i}.",
                ),
                topic_id=topic_id,
            )
            topic_ids.append(topic_id)
    return topic_ids
