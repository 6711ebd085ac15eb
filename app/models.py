"""Imports every model so Alembic and the shell see the whole schema."""

from app.audit import AuditLog  # noqa: F401
from app.blueprints.applications.models import CoreApplication, Recognition  # noqa: F401
from app.blueprints.auth.models import (  # noqa: F401
    Enterprise,
    Expert,
    Institution,
    LoginLog,
    PhoneChangeRequest,
    User,
    UserSession,
)
from app.blueprints.awards.models import (  # noqa: F401
    AwardPublication,
    AwardResult,
    ExpertNomination,
    InstitutionNomination,
    ProductNomination,
    ReviewAssignment,
    Score,
    ScoringCriterion,
)
from app.blueprints.complaints.models import Complaint, ComplaintEvent, ComplaintLookup, ComplaintTicketCounter  # noqa: F401
from app.blueprints.portal.models import Notice  # noqa: F401
from app.blueprints.reports.models import MonthlyReport, ReportActivity, ReportReopenRequest  # noqa: F401
from app.cache import CacheTopic  # noqa: F401
from app.filings.models import Attachment, Filing, ReviewEvent, Round  # noqa: F401
from app.inbox import Message  # noqa: F401
from app.jobs import Job, Schedule, ScheduleRun  # noqa: F401
from app.reference.models import DictItem, InstitutionType, Platform, Region, ServiceCategory, UnitNature  # noqa: F401
from app.sms import SmsMessage  # noqa: F401
from app.verification import CaptchaChallenge, SmsCode  # noqa: F401
