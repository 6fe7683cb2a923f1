"""Framework adapters over real HTTP on 127.0.0.1 (Flask on werkzeug, FastAPI
on uvicorn) and Django through its test client."""

import asyncio
import threading
import time
import urllib.error
import urllib.request

import pytest

from friendgate import Allow, CallbackHandler, Reject
from friendgate.testing import sample_add_body, sample_body, signed_query

EXPECTED = (
    b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":['
    b'{"To_Account":"id1","ResultCode":0,"ResultInfo":""},'
    b'{"To_Account":"id2","ResultCode":38001,"ResultInfo":"no"}]}'
)


def handler():
    return CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])


def decide(event, item):
    return Reject(38001, "no") if item.to_account == "id2" else Allow()


async def decide_async(event, item):
    await asyncio.sleep(0)
    return decide(event, item)


ASKED_ADD: list = []


def decide_add(event, item):
    """A friend request is refused for a listed word in its greeting."""
    ASKED_ADD.append(item.to_account)
    return Reject(38010, "greeting") if "id2" in item.add_wording else Allow()


async def decide_add_async(event, item):
    await asyncio.sleep(0)
    return decide_add(event, item)


EXPECTED_ADD = (
    b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":['
    b'{"To_Account":"id1","ResultCode":0,"ResultInfo":""},'
    b'{"To_Account":"id2","ResultCode":38010,"ResultInfo":"greeting"}]}'
)


def check_friend_requests(send):
    """A friend request at the one URL is decided by decide_add, in order; a
    forged one never reaches it. `send(query, body)` gives (status, body)."""
    ASKED_ADD.clear()
    query = signed_query(1400000000, "xxxxyyyy", command="Sns.CallbackPrevFriendAdd")
    assert send(query, sample_add_body().encode()) == (200, EXPECTED_ADD)
    assert ASKED_ADD == ["id1", "id2"]
    forged = signed_query(1400000000, "forged-token", command="Sns.CallbackPrevFriendAdd")
    status, _ = send(forged, sample_add_body().encode())
    assert status == 401 and len(ASKED_ADD) == 2


def post(url, body, method="POST"):
    request = urllib.request.Request(url, data=body if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def check_exchanges(base):
    query = signed_query(1400000000, "xxxxyyyy")
    status, content_type, body = post(f"{base}/callback?{query}", sample_body().encode())
    assert (status, content_type, body) == (200, "application/json", EXPECTED)
    status, _, body = post(f"{base}/callback?{query.replace('Sign=', 'Sign=0')}", sample_body().encode())
    assert status == 401 and b'"ErrorCode":38012' in body
    # Every other method gets core's 405 from the adapter itself, not the
    # framework's own page, as routed in the README.
    for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, content_type, body = post(f"{base}/callback?{query}", None, method=method)
        assert (status, content_type) == (405, "application/json"), method
        assert body == (b'{"ActionStatus":"FAIL","ErrorCode":38040,"ErrorInfo":"method ' + method.encode()
                        + b' is not allowed: the callback is a POST","ResultItem":[]}')
    status, _, _ = post(f"{base}/callback?{query}", None, method="HEAD")
    assert status == 405
    request = urllib.request.Request(f"{base}/callback?{query}", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.headers["Allow"] == "POST"


PROCESSED = b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'
AFTER_SEND = b'{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"jared"}'
APP_ANSWER = b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","App":"mine"}'


def other_query(token="xxxxyyyy"):
    return signed_query(1400000000, token).replace("Sns.CallbackPrevFriendResponse", "C2C.CallbackAfterSendMsg")


def check_one_url(base, seen, answered=APP_ANSWER):
    """The one URL: another command reaches the app's handler typed, with its
    body; a forged one never does."""
    status, _, body = post(f"{base}/callback?{other_query()}", AFTER_SEND)
    assert (status, body) == (200, answered)
    assert seen == [("C2C.CallbackAfterSendMsg", 1400000000, True, AFTER_SEND)]
    status, _, body = post(f"{base}/callback?{other_query('forged-token')}", AFTER_SEND)
    assert status == 401 and b'"ErrorCode":38012' in body
    assert len(seen) == 1


def recording(seen, respond):
    def on_other(request, body):
        seen.append((request.command, request.sdk_app_id, request.command_known, body))
        return respond(APP_ANSWER)

    return on_other


def test_flask_over_http():
    from flask import Flask
    from werkzeug.serving import make_server

    from friendgate.flask import blueprint

    from flask import Response

    seen = []
    app = Flask(__name__)
    on_other = recording(seen, lambda answer: Response(answer, mimetype="application/json"))
    app.register_blueprint(blueprint(handler(), decide, decide_add=decide_add, on_other=on_other))
    app.register_blueprint(blueprint(handler(), decide, path="/plain/callback", name="plain"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        check_exchanges(base)
        check_one_url(base, seen)
        check_friend_requests(lambda query, body: post(f"{base}/callback?{query}", body)[::2])
        # Without on_other: core's processed answer; without decide_add, a
        # friend request is still answered item by item, allowed.
        status, _, body = post(f"{base}/plain/callback?{other_query()}", AFTER_SEND)
        assert (status, body) == (200, PROCESSED)
        add = signed_query(1400000000, "xxxxyyyy", command="Sns.CallbackPrevFriendAdd")
        status, _, body = post(f"{base}/plain/callback?{add}", sample_add_body().encode())
        assert status == 200 and body.count(b'"ResultCode":0') == 2
    finally:
        server.shutdown()


def test_flask_explains_a_consumed_body():
    from flask import Flask, request

    from friendgate.flask import BodyAlreadyConsumed, callback_view

    app = Flask(__name__)
    view = callback_view(handler(), decide)

    @app.route("/callback", methods=["POST"])
    def consumed():
        request.form  # a form parser eats the stream first
        return view()

    app.testing = True
    with pytest.raises(BodyAlreadyConsumed, match="already read"):
        app.test_client().post(f"/callback?{signed_query(1400000000, 'xxxxyyyy')}", data=b"a=b", content_type="application/x-www-form-urlencoded")


def test_fastapi_over_http_with_async_decide():
    import uvicorn
    from fastapi import FastAPI

    from friendgate.starlette import METHODS, endpoint

    from fastapi.responses import Response

    seen = []
    respond = recording(seen, lambda answer: Response(answer, media_type="application/json"))

    async def on_other(request, body):
        await asyncio.sleep(0)
        return respond(request, body)

    app = FastAPI()
    app.add_route("/callback", endpoint(handler(), decide_async, decide_add=decide_add_async, on_other=on_other),
                  methods=METHODS)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        check_exchanges(f"http://127.0.0.1:{port}")
        check_one_url(f"http://127.0.0.1:{port}", seen)
        check_friend_requests(lambda query, body: post(f"http://127.0.0.1:{port}/callback?{query}", body)[::2])
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_django_view():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["testserver"],
            SECRET_KEY="test",
            DEBUG=False,
            MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
        )
        django.setup()
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # the platform sends no CSRF token
    query = signed_query(1400000000, "xxxxyyyy")
    response = client.post(f"/callback?{query}", data=sample_body().encode(), content_type="application/json")
    assert (response.status_code, response["Content-Type"], response.content) == (200, "application/json", EXPECTED)
    # Set by the view: WSGI servers need it to keep the connection alive.
    assert response["Content-Length"] == str(len(EXPECTED))
    response = client.get(f"/callback?{query}")
    assert response.status_code == 405 and b'"ErrorCode":38040' in response.content
    assert response["Allow"] == "POST"
    assert response["Content-Length"] == str(len(response.content))
    DJANGO_SEEN.clear()
    response = client.post(f"/callback?{other_query()}", data=AFTER_SEND, content_type="application/json")
    assert (response.status_code, response.content) == (200, APP_ANSWER)
    assert DJANGO_SEEN == [("C2C.CallbackAfterSendMsg", 1400000000, True, AFTER_SEND)]
    response = client.post(f"/callback?{other_query('forged-token')}", data=AFTER_SEND, content_type="application/json")
    assert response.status_code == 401 and len(DJANGO_SEEN) == 1

    def send(query, body):
        response = client.post(f"/callback?{query}", data=body, content_type="application/json")
        return response.status_code, response.content

    check_friend_requests(send)


DJANGO_SEEN: list = []


def _django_urlpatterns():
    from django.urls import path

    from friendgate.django import callback_view

    from django.http import HttpResponse

    on_other = recording(DJANGO_SEEN, lambda answer: HttpResponse(answer, content_type="application/json"))
    return [path("callback", callback_view(handler(), decide, decide_add=decide_add, on_other=on_other))]


def __getattr__(name):
    # Django reads ROOT_URLCONF's urlpatterns lazily, after settings exist.
    if name == "urlpatterns":
        return _django_urlpatterns()
    raise AttributeError(name)


async def test_starlette_explains_a_consumed_stream():
    from starlette.requests import Request

    from friendgate.starlette import BodyAlreadyConsumed, endpoint

    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/callback", "query_string": signed_query(1400000000, "xxxxyyyy").encode(), "headers": []}
    request = Request(scope, receive)
    async for _ in request.stream():  # something read the stream without caching it
        pass
    with pytest.raises(BodyAlreadyConsumed, match="consumed"):
        await endpoint(handler(), decide)(request)


def test_django_explains_a_consumed_body():
    test_django_view()  # configures Django once
    from django.test import RequestFactory

    from friendgate.django import BodyAlreadyConsumed, callback_view

    request = RequestFactory().post(
        f"/callback?{signed_query(1400000000, 'xxxxyyyy')}", data=b"{}", content_type="application/json"
    )
    request.read()  # a middleware read the stream
    with pytest.raises(BodyAlreadyConsumed, match="before friendgate's view"):
        callback_view(handler(), decide)(request)


def test_one_body_already_consumed_for_every_adapter():
    import friendgate
    import friendgate.django
    import friendgate.flask
    import friendgate.starlette

    classes = {friendgate.flask.BodyAlreadyConsumed, friendgate.starlette.BodyAlreadyConsumed,
               friendgate.django.BodyAlreadyConsumed, friendgate.BodyAlreadyConsumed}
    assert classes == {friendgate.errors.BodyAlreadyConsumed}


@pytest.mark.parametrize("logger_name", ["uvicorn.access", "gunicorn.access", "werkzeug"])
def test_redact_sign_keeps_the_sign_out_of_access_logs(logger_name, caplog):
    import logging

    from friendgate.redact import RedactSign

    query = signed_query(1400000000, "xxxxyyyy", 1669872112)
    sign = query.split("Sign=")[1]
    logger = logging.getLogger(logger_name)
    redacting = RedactSign()
    logger.addFilter(redacting)
    try:
        with caplog.at_level("INFO", logger=logger_name):
            # uvicorn's access record: args (client, method, path, version, status)
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", f"/callback?{query}", "1.1", 200)
    finally:
        logger.removeFilter(redacting)
    [record] = [r for r in caplog.records if r.name == logger_name]
    assert sign not in record.getMessage()
    assert "Sign=<redacted>" in record.getMessage()
    assert "SdkAppid=1400000000" in record.getMessage()


def test_uvicorn_access_log_with_the_filter_over_http():
    import logging

    import uvicorn
    from fastapi import FastAPI

    from friendgate.redact import RedactSign
    from friendgate.starlette import endpoint

    app = FastAPI()
    app.add_api_route("/callback", endpoint(handler(), decide_async), methods=["GET", "POST"])
    # uvicorn configures its loggers here (uvicorn.access does not propagate).
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="info", lifespan="off", access_log=True)
    server = uvicorn.Server(config)
    access = logging.getLogger("uvicorn.access")
    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    capture = Capture()
    redacting = RedactSign()
    access.addHandler(capture)
    access.addFilter(redacting)
    thread = threading.Thread(target=server.run, daemon=True)
    try:
        thread.start()
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        query = signed_query(1400000000, "xxxxyyyy")
        status, _, _ = post(f"http://127.0.0.1:{port}/callback?{query}", sample_body().encode())
        assert status == 200
        time.sleep(0.2)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        access.removeFilter(redacting)
        access.removeHandler(capture)
    assert lines and all("Sign=<redacted>" in line for line in lines), lines
    assert not any(query.split("Sign=")[1] in line for line in lines)
