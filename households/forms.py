"""Admin forms of the registry: the household edit form saves through the service, and the
Excel import upload form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .models import Village
from .services import household_save


class HouseholdAdminForm(WagtailAdminModelForm):
    """Wagtail's snippet form, but saving goes through ``household_save`` (services write)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "village" in self.fields:
            field = self.fields["village"]
            field.queryset = Village.objects.select_related("township").order_by("township__code", "code")
            # Village names repeat across townships: always show the township too.
            field.label_from_instance = lambda village: f"{village.township.name} · {village.name}"

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
