from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.algorithms.calendar_days import DEFAULT_DAY_START_HOUR
from apps.scheduler.hlr_training import hlr_model_train


class Command(BaseCommand):
    help = (
        "Train half-life regression on the attempt history (one review per learner, atom and "
        "calendar day; α, λ and concept indicators chosen on a time split) and store it as a "
        "new version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--epochs", type=int, default=1000)
        parser.add_argument("--day-start-hour", type=int, default=DEFAULT_DAY_START_HOUR)

    def handle(self, *args, **options):
        if options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        try:
            model = hlr_model_train(
                epochs=options["epochs"], day_start_hour=options["day_start_hour"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        shared = ", ".join(
            f"{name}={w:+.4f}"
            for name, w in zip(model.feature_names[:3], model.weights[:3], strict=True)
        )
        indicators = len(model.weights) - 3
        self.stdout.write(
            f"HLR v{model.version}: {model.samples} repeat reviews, loss {model.final_loss:.4f}, "
            f"α={model.alpha:g}, λ={model.l2:g} (chosen on a time split); weights {shared}"
            + (f"; {indicators} concept indicators" if indicators else "")
        )
