"""Flask on waitress: POST http://127.0.0.1:8000/callback"""

from flask import Flask, Response

from common import HOST, PORT, decide, decide_add, handler, on_other
from friendgate.flask import blueprint

app = Flask(__name__)
app.register_blueprint(
    blueprint(
        handler,
        decide,
        decide_add=decide_add,
        path="/callback",
        on_other=lambda request, body: Response(on_other(request, body), mimetype="application/json"),
    )
)

if __name__ == "__main__":
    # waitress: a production WSGI server that keeps connections alive, as
    # the platform does (werkzeug's development server closes every one).
    from waitress import serve

    serve(app, host=HOST, port=PORT, threads=8)
