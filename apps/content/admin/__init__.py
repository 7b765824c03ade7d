"""The content admin, one module per concern. Importing the modules registers their admins.

- ``atoms``: LearningAtomAdmin, which saves only through apps.content.services
- ``forms`` / ``inlines``: its form and inlines (validation through the services' validators)
- ``preview``, ``workflow``, ``interchange``: its extra pages (learner preview, review
  workflow and history, import/export), as mixins
- ``tags``, ``revisions``, ``item_analysis``: the other content models
"""

from . import atoms, item_analysis, revisions, tags

__all__ = ["atoms", "item_analysis", "revisions", "tags"]
