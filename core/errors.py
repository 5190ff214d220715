"""Domain errors: types carrying a message a person can act on, in the user's language.

Views turn them into a form error or a 400/409 response with the message, never a 500.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain said no. ``status`` is the HTTP status an API answers with."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, problems: list[str] | None = None, problem_keys: dict | None = None):
        self.message = str(message)
        self.problems = [str(p) for p in (problems or [])]
        # which input each problem is about, when the service knows (``{"line:12": message}``):
        # a form marks that field; the messages are in ``problems`` too
        self.problem_keys = {str(k): str(v) for k, v in (problem_keys or {}).items()}
        super().__init__(self.message)

    def as_dict(self) -> dict:
        data: dict = {"detail": self.message, "code": self.code}
        if self.problems:
            data["problems"] = self.problems
        return data


class ConflictError(DomainError):
    """The request is well formed but the state of things refuses it (stock, balance, duplicate)."""

    status = 409
    code = "conflict"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"
