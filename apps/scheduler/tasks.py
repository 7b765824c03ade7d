from celery import shared_task

from apps.core.dispatch import RETRY_ON_TRANSIENT


@shared_task(name="scheduler.irt_calibrate_course", ignore_result=True, **RETRY_ON_TRANSIENT)
def irt_calibrate_course_task(course_id: str, model: str = "2pl", **kwargs) -> None:
    """Calibrate one course's item parameters from its attempts. A redelivery or retry
    calibrates again from the same attempts: the same parameters."""
    from apps.curriculum.models import Course

    from .calibration import course_items_calibrate

    course = Course.objects.filter(pk=course_id).first()
    if course is not None:
        course_items_calibrate(course, model)


@shared_task(name="scheduler.irt_calibrate_all", ignore_result=True, **RETRY_ON_TRANSIENT)
def irt_calibrate_all_task(**kwargs) -> None:
    """Queue a calibration per published course (the daily beat). A redelivery queues them
    again; each is idempotent."""
    from apps.curriculum.models import Course

    for course_id in Course.objects.filter(is_published=True).values_list("pk", flat=True):
        irt_calibrate_course_task.delay(str(course_id))


@shared_task(name="scheduler.fsrs_fit_course", ignore_result=True, **RETRY_ON_TRANSIENT)
def fsrs_fit_course_task(course_id: str, **kwargs) -> None:
    """Fit one course's FSRS parameters from its attempts and record the next version (used
    only when fitted on enough reviews). A redelivery or retry fits again on the same attempts,
    gets the same weights and records nothing new."""
    from apps.curriculum.models import Course

    from .fsrs_fitting import course_fsrs_fit

    course = Course.objects.filter(pk=course_id).first()
    if course is not None:
        course_fsrs_fit(course=course)


@shared_task(name="scheduler.fsrs_fit_all", ignore_result=True, **RETRY_ON_TRANSIENT)
def fsrs_fit_all_task(**kwargs) -> None:
    """Queue an FSRS fit per published course (the nightly beat). A redelivery queues them
    again; each fit only appends a version."""
    from apps.curriculum.models import Course

    for course_id in Course.objects.filter(is_published=True).values_list("pk", flat=True):
        fsrs_fit_course_task.delay(str(course_id))


@shared_task(name="scheduler.bkt_fit_course", ignore_result=True, **RETRY_ON_TRANSIENT)
def bkt_fit_course_task(course_id: str, **kwargs) -> None:
    """Fit one course's BKT (pooled prior, and each concept with enough answers) and record
    new versions. A redelivery or retry finds the same attempts and records nothing new."""
    from apps.curriculum.models import Course

    from .bkt_fitting import course_bkt_fit

    course = Course.objects.filter(pk=course_id).first()
    if course is not None:
        course_bkt_fit(course=course)


@shared_task(name="scheduler.bkt_fit_all", ignore_result=True, **RETRY_ON_TRANSIENT)
def bkt_fit_all_task(**kwargs) -> None:
    """Queue a BKT fit per published course (the nightly beat). A redelivery queues them
    again; each is idempotent."""
    from apps.curriculum.models import Course

    for course_id in Course.objects.filter(is_published=True).values_list("pk", flat=True):
        bkt_fit_course_task.delay(str(course_id))


@shared_task(name="scheduler.course_models_evaluate", ignore_result=True, **RETRY_ON_TRANSIENT)
def course_models_evaluate_task(course_id: str, **kwargs) -> None:
    """Compare the scheduling models on one course's own attempts (srs-benchmark's protocol)
    and record it, for the course admin's HLR-versus-FSRS flag; a course with too few repeat
    reviews to split is left out. A redelivery records the same comparison again."""
    from apps.curriculum.models import Course

    from .evaluation.attempts import course_evaluation_record

    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        return
    try:
        course_evaluation_record(course=course)
    except ValueError:
        return  # too few reviews: nothing to compare yet


@shared_task(name="scheduler.course_models_evaluate_all", ignore_result=True, **RETRY_ON_TRANSIENT)
def course_models_evaluate_all_task(**kwargs) -> None:
    """Queue an evaluation per published course (the nightly beat, after the fits). A
    redelivery queues them again."""
    from apps.curriculum.models import Course

    for course_id in Course.objects.filter(is_published=True).values_list("pk", flat=True):
        course_models_evaluate_task.delay(str(course_id))
