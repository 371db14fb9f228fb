from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadState(models.TextChoices):
    LEAD = "lead", _("Lead")
    MQL = "mql", _("MQL")
    TAL = "tal", _("TAL")
    TQL = "tql", _("TQL")
    SAL = "sal", _("SAL")
    SQL = "sql", _("SQL")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    RECYCLED = "recycled", _("Recycled")
    ARCHIVED = "archived", _("Archived")


class TransitionName(models.TextChoices):
    QUALIFY_MQL = "qualify_mql", _("Qualify as MQL")
    ACCEPT = "accept", _("Accept")
    REJECT = "reject", _("Reject")
    CLAIM = "claim", _("Claim (SGL)")
    IS_ACCEPT = "is_accept", _("Accept for inside sales")
    QUALIFY_TQL = "qualify_tql", _("Qualify as TQL")
    IS_DISQUALIFY = "is_disqualify", _("Disqualify (inside sales)")
    IS_CLAIM = "is_claim", _("Claim (TGL)")
    QUALIFY_SQL = "qualify_sql", _("Qualify as SQL")
    DISQUALIFY = "disqualify", _("Disqualify")
    WIN = "win", _("Win")
    LOSE = "lose", _("Lose")
    RECYCLE = "recycle", _("Recycle")
    ARCHIVE = "archive", _("Archive")


class Source(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    AD = "ad", _("Advertising")
    SEMINAR = "seminar", _("Seminar")
    EXHIBITION = "exhibition", _("Exhibition")
    REFERRAL = "referral", _("Referral")
    SALES_GENERATED = "sales_generated", _("Sales-generated")
    INSIDE_SALES_GENERATED = "inside_sales_generated", _("Inside-sales-generated")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Industry(models.TextChoices):
    """The industries the UI offers. Criteria and fit rules compare normalised values, so an
    imported `Software` matches `software`."""

    SOFTWARE = "software", _("Software")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail")
    FINANCE = "finance", _("Finance")
    LOGISTICS = "logistics", _("Logistics")
    HEALTHCARE = "healthcare", _("Healthcare")
    CONSTRUCTION = "construction", _("Construction")
    EDUCATION = "education", _("Education")
    PUBLIC_SECTOR = "public_sector", _("Public sector")
    SERVICES = "services", _("Services")
    OTHER = "other", _("Other")


class DisqualifyReason(models.TextChoices):
    NO_BUDGET = "no_budget", _("No budget")
    NO_NEED = "no_need", _("No need")
    NO_AUTHORITY = "no_authority", _("No decision maker reached")
    BAD_TIMING = "bad_timing", _("Timing not right")
    UNREACHABLE = "unreachable", _("Could not reach")
    COMPETITOR = "competitor", _("Chose a competitor")
    OTHER = "other", _("Other")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Competitor")
    TIMING = "timing", _("Timing")
    NO_DECISION = "no_decision", _("No decision")
    OTHER = "other", _("Other")


class ArchiveReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    INVALID = "invalid", _("Invalid")
    DUPLICATE = "duplicate", _("Duplicate")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    SYSTEM = "system", _("System")


class DefinitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


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
    PROBABILITY_AT_LEAST = "probability_at_least"


class ScoreName(models.TextChoices):
    FIT = "fit"
    ENGAGEMENT = "engagement"
    TOTAL = "total"


OTHER_REASON = "other"


class Lane(models.TextChoices):
    """Where a lead first entered the accountable line (SPEC §13), kept across recycling."""

    MGL = "mgl", _("Marketing-generated")
    TGL = "tgl", _("Inside-sales-generated")
    SGL = "sgl", _("Sales-generated")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")


class ActivityOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Voicemail")
    SENT = "sent", _("Sent")
    REPLIED = "replied", _("Replied")
    MEETING_SET = "meeting_set", _("Meeting set")
    NOT_INTERESTED = "not_interested", _("Not interested")
