from django.core.management.base import BaseCommand

from apps.content.services import atoms_publish_scheduled


class Command(BaseCommand):
    help = "Publish approved atoms whose publish_at has passed; archive those past expire_at."

    def handle(self, *args, **options):
        published, archived = atoms_publish_scheduled()
        self.stdout.write(f"Published {published} atom(s); archived {archived} expired atom(s).")
