"""The business error hierarchy. One DRF exception handler (`leadflow.problems`) maps each to
RFC 9457 problem+json; services raise these and never build HTTP responses themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class LeadflowError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    def extra(self) -> dict[str, Any]:
        return {}


class ValidationFailed(LeadflowError):
    status = 400
    code = "validation-failed"
    title = "The request is not valid"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors[:5]))

    def extra(self) -> dict[str, Any]:
        return {"errors": [e.as_dict() for e in self.errors]}


class NotFound(LeadflowError):
    status = 404
    code = "not-found"
    title = "Not found"


class Forbidden(LeadflowError):
    status = 403
    code = "forbidden"
    title = "You may not do this"


class Conflict(LeadflowError):
    status = 409
    code = "conflict"
    title = "Conflict"


class TransitionNotAvailable(Conflict):
    code = "transition-not-available"
    title = "The transition is not available from the lead's state"


class CriteriaNotMet(Conflict):
    code = "criteria-not-met"
    title = "The published criteria do not pass"

    def __init__(self, criteria: list[dict[str, Any]], detail: str | None = None) -> None:
        self.criteria = criteria
        failing = [c["code"] for c in criteria if not c["passed"]]
        super().__init__(detail or f"Failing criteria: {', '.join(failing) or 'none'}")

    def extra(self) -> dict[str, Any]:
        return {"criteria": self.criteria}


class ConcurrentUpdate(Conflict):
    code = "concurrent-update"
    title = "Another request changed this object at the same time"


class IdempotencyInFlight(Conflict):
    code = "idempotency-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class IdempotencyMismatch(LeadflowError):
    status = 422
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request body"


class NoPublishedDefinition(Conflict):
    code = "no-published-definition"
    title = "No definition is published"


class PayloadTooLarge(LeadflowError):
    status = 413
    code = "payload-too-large"
    title = "The request body is too large"


class ServiceUnavailable(LeadflowError):
    status = 503
    code = "service-unavailable"
    title = "A backing service is unavailable"
