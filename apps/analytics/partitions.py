"""The event log's monthly partitions on PostgreSQL (apps/core/partitions.py; migration 0002
partitions the table). The nightly ``analytics.partitions_ensure`` keeps the coming months
ready, as ``learning.attempt_partitions_ensure`` does for attempts."""

from apps.core.partitions import MonthlyPartitions

EVENTS = MonthlyPartitions(
    table="analytics_analyticsevent",
    column="occurred_at",
    create_lock=0x416E6C50,  # "AnlP": one event partition creation at a time
)
