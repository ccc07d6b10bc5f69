"""Domain errors carry messages a user can act on; adapters turn them into 4xx replies."""


class DomainError(ValueError):
    """Input the domain cannot accept."""


class InvalidSchedule(DomainError):
    """A cron expression that cannot be evaluated."""


class InvalidTimezone(DomainError):
    """A time zone that is not a known IANA name."""
