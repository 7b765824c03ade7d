"""django.contrib.admin's app config, with the MFA admin site as the default site. Kept apart
from admin_site.py: an app config module is imported before models can be."""

from django.contrib.admin.apps import AdminConfig


class MFAAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.MFAAdminSite"
