"""Admin forms of the registry: the household edit form saves through the service, and the
Excel import upload form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .models import Household, Village
from .selectors import household_numbers_by_id_number
from .services import household_save
from .validators import id_number_clean, id_number_taken_message, phone_clean


class IdNumberField(forms.CharField):
    """A resident ID number read the way the import reads it (``id_number_clean``): full-width
    digits, a lower-case x and spaces are accepted and stored in the one canonical form."""

    def to_python(self, value):
        value = super().to_python(value)
        return id_number_clean(value) if value else value


class MobilePhoneField(forms.CharField):
    """A mainland mobile number read the way the imports read it (``phone_clean``)."""

    def to_python(self, value):
        value = super().to_python(value)
        return phone_clean(value) if value else value


class HouseholdAdminForm(WagtailAdminModelForm):
    """Wagtail's snippet form, but saving goes through ``household_save`` (services write), and the
    ID number and phone are read by the same functions as the Excel import."""

    # No max_length on the inputs: " 110105 1949…" with spaces is longer than what is stored.
    id_number = IdNumberField(label=Household._meta.get_field("id_number").verbose_name)
    phone = MobilePhoneField(label=Household._meta.get_field("phone").verbose_name, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "village" in self.fields:
            field = self.fields["village"]
            field.queryset = Village.objects.select_related("township").order_by("township__code", "code")
            # Village names repeat across townships: always show the township too.
            field.label_from_instance = lambda village: f"{village.township.name} · {village.name}"

    def clean_id_number(self):
        id_number = self.cleaned_data["id_number"]
        others = [number for pk, number in household_numbers_by_id_number([id_number]).get(id_number, []) if pk != self.instance.pk]
        if others:
            raise forms.ValidationError(id_number_taken_message(id_number, others[0]))
        return id_number

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        return household_save(household=self.instance, author=getattr(self, "for_user", None))


class HouseholdImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx); save .xls or .csv files as .xlsx first."))
        return upload
