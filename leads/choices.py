from django.db import models


class LeadState(models.TextChoices):
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL"
    SQL = "sql", "SQL"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    RECYCLED = "recycled", "Recycled"
    ARCHIVED = "archived", "Archived"


class TransitionName(models.TextChoices):
    QUALIFY_MQL = "qualify_mql", "Qualify as MQL"
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"
    CLAIM = "claim", "Claim (SGL)"
    QUALIFY_SQL = "qualify_sql", "Qualify as SQL"
    DISQUALIFY = "disqualify", "Disqualify"
    WIN = "win", "Win"
    LOSE = "lose", "Lose"
    RECYCLE = "recycle", "Recycle"
    ARCHIVE = "archive", "Archive"


class Source(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    AD = "ad", "Advertising"
    SEMINAR = "seminar", "Seminar"
    EXHIBITION = "exhibition", "Exhibition"
    REFERRAL = "referral", "Referral"
    SALES_GENERATED = "sales_generated", "Sales-generated"
    IMPORT = "import", "Import"
    OTHER = "other", "Other"


class LostReason(models.TextChoices):
    PRICE = "price", "Price"
    COMPETITOR = "competitor", "Competitor"
    TIMING = "timing", "Timing"
    NO_DECISION = "no_decision", "No decision"
    OTHER = "other", "Other"


class ArchiveReason(models.TextChoices):
    SPAM = "spam", "Spam"
    INVALID = "invalid", "Invalid"
    DUPLICATE = "duplicate", "Duplicate"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    SYSTEM = "system", "System"


class DefinitionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class CriterionKind(models.TextChoices):
    SCORE_AT_LEAST = "score_at_least"
    FIELD_IN = "field_in"
    FIELD_NOT_IN = "field_not_in"
    FIELDS_PRESENT = "fields_present"
    FIELD_TRUE = "field_true"
    FIELD_AT_LEAST = "field_at_least"
    DATE_WITHIN = "date_within"
    ACTIVITY_WITHIN = "activity_within"
    EMAIL_DOMAIN_NOT_IN = "email_domain_not_in"


class ScoreName(models.TextChoices):
    FIT = "fit"
    ENGAGEMENT = "engagement"
    TOTAL = "total"


OTHER_REASON = "other"
