from core import roles

ROLE_PERMISSIONS = {roles.COUNTY_OFFICE: {"settlement": ("view", "change")}}
