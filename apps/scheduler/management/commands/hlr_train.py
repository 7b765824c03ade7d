from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.hlr_training import hlr_model_train


class Command(BaseCommand):
    help = "Train half-life regression on the attempt history and store it as a new version."

    def add_arguments(self, parser):
        parser.add_argument("--alpha", type=float, default=0.01, help="half-life error weight")
        parser.add_argument("--l2", type=float, default=0.1, help="L2 regularisation")
        parser.add_argument("--epochs", type=int, default=300)

    def handle(self, *args, **options):
        try:
            model = hlr_model_train(
                alpha=options["alpha"], l2=options["l2"], epochs=options["epochs"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        weights = ", ".join(
            f"{name}={w:+.4f}" for name, w in zip(model.feature_names, model.weights, strict=True)
        )
        self.stdout.write(
            f"HLR v{model.version}: {model.samples} repeat reviews, loss {model.final_loss:.4f}; "
            f"weights {weights}"
        )
