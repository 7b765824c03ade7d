"""Who runs experiments (apps/accounts/roles.py's model: roles are groups; the data migration
grants these through ``role_permissions_sync``). Publishers own a course's scheduling policy,
so they define experiments on it and read the analysis; Analysts read the analysis only.
Superusers hold every permission."""

VIEW_PERMISSION = "experiments.view_experiment"
ANALYSIS_PERMISSION = "experiments.view_experiment_analysis"

EXPERIMENTS_ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Publishers": [
        "experiments.view_experiment",
        "experiments.add_experiment",
        "experiments.change_experiment",
        "experiments.view_arm",
        "experiments.add_arm",
        "experiments.change_arm",
        "experiments.delete_arm",
        "experiments.view_assignment",
        ANALYSIS_PERMISSION,
    ],
    "Analysts": [
        "experiments.view_experiment",
        "experiments.view_arm",
        "experiments.view_assignment",
        ANALYSIS_PERMISSION,
    ],
}
