"""Django in one file, on waitress: POST http://127.0.0.1:8000/callback"""

import django
from django.conf import settings
from django.urls import path

from common import HOST, PORT, decide, decide_add, handler, on_other

settings.configure(
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="example-only",
    DEBUG=False,
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
)
django.setup()

from django.http import HttpResponse  # noqa: E402
from friendgate.django import callback_view  # noqa: E402  (after settings)


def on_other_django(request, body):
    return HttpResponse(on_other(request, body), content_type="application/json")


urlpatterns = [path("callback", callback_view(handler, decide, decide_add=decide_add, on_other=on_other_django))]

if __name__ == "__main__":
    # waitress: a production WSGI server that keeps connections alive, as
    # the platform does (Django's runserver closes every one).
    from django.core.wsgi import get_wsgi_application
    from waitress import serve

    serve(get_wsgi_application(), host=HOST, port=PORT, threads=8)
