"""Site frame and form helpers: the role's screens in the header, one error box for every form,
and the marks of a wrong field (``aria-invalid``, its message next to it)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from core.form_errors import FormErrors
from core.landing import screens_for

register = template.Library()


@register.simple_tag(takes_context=True)
def role_screens(context):
    request = context.get("request")
    return screens_for(request.user) if request is not None else []


def _errors(errors) -> FormErrors:
    if isinstance(errors, FormErrors):
        return errors
    if errors is None or errors == "":
        return FormErrors()
    return FormErrors.of(errors)  # a Django form


@register.inclusion_tag("includes/error_summary.html")
def error_summary(errors, title=""):
    """The box at the top of a form: every problem, linked to its field, focused on load and
    announced (role=alert)."""
    errors = _errors(errors)
    return {"rows": errors.summary(), "title": title}


@register.simple_tag
def field_error(errors, field: str, anchor: str = ""):
    """The field's own message(s), next to it (``id="<anchor>-error"`` for aria-describedby)."""
    messages = _errors(errors).get(field)
    if not messages:
        return ""
    anchor = anchor or _errors(errors).anchor(field)
    return format_html(
        '<p class="field-error" id="{}-error">{}</p>', anchor, format_html_join(" ", "<span>{}</span>", ((m,) for m in messages))
    )


@register.simple_tag
def invalid(errors, field: str, anchor: str = ""):
    """Attributes of a wrong input: ``aria-invalid`` (styled red) and the message it is described by."""
    errors = _errors(errors)
    if field not in errors:
        return ""
    return format_html(' aria-invalid="true" aria-describedby="{}-error"', anchor or errors.anchor(field))
