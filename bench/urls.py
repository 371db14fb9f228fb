from django.urls import path

from bench.floor import floor
from leadflow.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [path("bench/floor/", floor), *urlpatterns]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
