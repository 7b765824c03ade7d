"""Who reads the analytics event log (apps/accounts/roles.py's model: roles are groups; the
data migration grants these through ``role_permissions_sync``). Analysts read events in the
admin and export them (GET /api/v1/analytics/events/); superusers hold every permission."""

ANALYSTS = "Analysts"
EXPORT_PERMISSION = "analytics.export_events"

ANALYTICS_ROLE_PERMISSIONS: dict[str, list[str]] = {
    ANALYSTS: ["analytics.view_analyticsevent", EXPORT_PERMISSION],
}
