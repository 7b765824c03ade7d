# ruff: noqa: DJ001, DJ008 - an external schema, declared as it is
"""The legacy v1 schema (``v1_schema/``) as unmanaged models on the ``legacy`` alias.

Django never migrates these tables (config/db_routers.py); ``legacy_database = True`` routes
reads and writes to the legacy connection. Columns are declared as v1 has them: nullable where
v1 allows NULL, no foreign keys (v1 has dangling references), emails not unique.
"""

from django.db import models


class LegacyModel(models.Model):
    legacy_database = True

    class Meta:
        abstract = True
        managed = False


class LegacyUser(LegacyModel):
    id = models.IntegerField(primary_key=True)
    email = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, null=True)
    timezone = models.CharField(max_length=64, null=True)
    created_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "users"


class LegacyChapter(LegacyModel):
    id = models.IntegerField(primary_key=True)
    app_name = models.CharField(max_length=50)
    title = models.CharField(max_length=255)
    position = models.IntegerField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "chapters"


class LegacyBit(LegacyModel):
    id = models.IntegerField(primary_key=True)
    chapter_id = models.IntegerField(null=True)
    text = models.CharField(max_length=255)
    translation = models.CharField(max_length=255, null=True)
    difficulty = models.IntegerField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "bits"


class LegacyFlashcard(LegacyModel):
    id = models.IntegerField(primary_key=True)
    bit_id = models.IntegerField(null=True)
    front = models.TextField()
    back = models.TextField(null=True)
    created_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "flashcards"


class LegacySession(LegacyModel):
    id = models.IntegerField(primary_key=True)
    user_id = models.IntegerField(null=True)
    chapter_id = models.IntegerField(null=True)
    started_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "sessions"


class LegacyAttempt(LegacyModel):
    id = models.IntegerField(primary_key=True)
    session_id = models.IntegerField(null=True)
    user_id = models.IntegerField(null=True)
    bit_id = models.IntegerField(null=True)
    correct = models.BooleanField(null=True)
    user_answer = models.TextField(null=True)
    created_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "attempts"


class LegacyReviewCard(LegacyModel):
    id = models.IntegerField(primary_key=True)
    user_id = models.IntegerField(null=True)
    bit_id = models.IntegerField(null=True)
    ease = models.FloatField(null=True)
    interval_days = models.IntegerField(null=True)
    repetitions = models.IntegerField(null=True)
    due_at = models.DateTimeField(null=True)
    last_reviewed_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "review_cards"


class LegacyMistakeLog(LegacyModel):
    id = models.IntegerField(primary_key=True)
    user_id = models.IntegerField(null=True)
    bit_id = models.IntegerField(null=True)
    template_code = models.CharField(max_length=64, null=True)
    raw_text = models.TextField(null=True)
    created_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "mistake_logs"


class LegacyPoint(LegacyModel):
    id = models.IntegerField(primary_key=True)
    user_id = models.IntegerField(null=True)
    reason = models.CharField(max_length=64, null=True)
    amount = models.IntegerField(null=True)
    created_at = models.DateTimeField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "points"


class LegacyUserProfile(LegacyModel):
    user_id = models.IntegerField(primary_key=True)
    current_streak = models.IntegerField(null=True)
    longest_streak = models.IntegerField(null=True)
    last_practice_date = models.DateField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "user_profiles"


class LegacyTask(LegacyModel):
    id = models.CharField(max_length=64, primary_key=True)
    user_id = models.IntegerField(null=True)
    title = models.CharField(max_length=255, null=True)
    course = models.CharField(max_length=255, null=True)
    due_at = models.DateTimeField(null=True)
    priority = models.IntegerField(null=True)
    status = models.CharField(max_length=32, null=True)
    signals = models.TextField(null=True)

    class Meta(LegacyModel.Meta):
        db_table = "tasks"
