from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/token/", apis.AuthTokenApi.as_view(), name="auth-token"),
]
