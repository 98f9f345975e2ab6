"""Signoff's routes plus one view that fails, for the 500 page's test."""

from django.urls import path

from config.urls import urlpatterns as signoff_urlpatterns


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), *signoff_urlpatterns]
