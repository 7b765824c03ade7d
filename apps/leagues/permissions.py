"""Who reads leagues in the admin (apps/accounts/roles.py's model: roles are groups; every role
sync grants these, the one after each migrate included). Analysts, who read the engagement
figures and the event log, see leagues and their standings, read-only; superusers hold every
permission. Only learners who opted in have rows here."""

ANALYSTS = "Analysts"  # the role apps/analytics/permissions.py creates

LEAGUES_ROLE_PERMISSIONS: dict[str, list[str]] = {
    ANALYSTS: ["leagues.view_league", "leagues.view_leaguemembership"],
}
