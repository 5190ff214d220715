"""The errors of a submitted form, gathered for one summary box and each field's own message.

A Django form's errors convert with ``FormErrors.of(form)``; a view that reads its inputs itself
(the station forms) adds them with ``add``. ``anchors`` maps a field name to the id of the input
the summary links to (by default the field's name).
"""

from __future__ import annotations

from core.errors import DomainError


class FormErrors:
    def __init__(self, anchors: dict[str, str] | None = None):
        self.top: list[str] = []
        self.fields: dict[str, list[str]] = {}
        self.anchors = dict(anchors or {})

    @classmethod
    def of(cls, form, anchors: dict[str, str] | None = None) -> FormErrors:
        errors = cls(anchors)
        if form is None or not form.is_bound:
            return errors
        for name in form.fields:  # link to the input Django renders, unless the page names another
            errors.anchors.setdefault(name, form[name].id_for_label or name)
        for field, messages in form.errors.items():
            for message in messages:
                errors.add(None if field == "__all__" else field, message)
        return errors

    def add(self, field: str | None, message) -> None:
        message = str(message)
        if field:
            if message not in self.fields.setdefault(field, []):
                self.fields[field].append(message)
        elif message not in self.top:
            self.top.append(message)

    def add_domain_error(self, exc: DomainError, field_for_key=None, field_for_name=None) -> None:
        """The error's message on top and each of its problems on the field it is about:
        ``field_for_key`` maps a service's problem key (``"line:12"``) to a field name, and
        ``field_for_name`` the error's own ``field`` (``"weight"``) to one."""
        keyed = {}
        if field_for_key:
            keyed = {message: field_for_key(key) for key, message in exc.problem_keys.items()}
        own = getattr(exc, "field", None)
        own_field = (field_for_name(own) if field_for_name else own) if own else None
        if own_field and not exc.problems:
            self.add(own_field, exc.message)
            return
        self.add(None, exc.message)
        for problem in exc.problems:
            self.add(keyed.get(problem), problem)

    def anchor(self, field: str) -> str:
        return self.anchors.get(field, field)

    def summary(self) -> list[tuple[str | None, str]]:
        """(input id or None, message) for the box at the top, whole-form messages first."""
        rows: list[tuple[str | None, str]] = [(None, m) for m in self.top]
        for field, messages in self.fields.items():
            rows += [(self.anchor(field), m) for m in messages]
        return rows

    def __bool__(self) -> bool:
        return bool(self.top or self.fields)

    def __contains__(self, field: str) -> bool:
        return bool(self.fields.get(field))

    def get(self, field: str) -> list[str]:
        return self.fields.get(field, [])
