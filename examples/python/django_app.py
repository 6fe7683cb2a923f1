"""Django in one file: POST http://127.0.0.1:8000/callback"""

import sys

import django
from django.conf import settings
from django.urls import path

from common import HOST, PORT, decide, handler

settings.configure(
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="example-only",
    DEBUG=False,
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
)
django.setup()

from friendgate.django import callback_view  # noqa: E402  (after settings)

urlpatterns = [path("callback", callback_view(handler, decide))]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", f"{HOST}:{PORT}", "--noreload", "--skip-checks"])
