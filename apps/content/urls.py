from rest_framework.routers import SimpleRouter

from .api import AtomViewSet

router = SimpleRouter()
router.register("atoms", AtomViewSet, basename="atom")
urlpatterns = router.urls
