"""Flask: POST http://127.0.0.1:8000/callback"""

from flask import Flask

from common import HOST, PORT, decide, handler
from friendgate.flask import blueprint

app = Flask(__name__)
app.register_blueprint(blueprint(handler, decide, path="/callback"))

if __name__ == "__main__":
    from werkzeug.serving import run_simple

    run_simple(HOST, PORT, app, threaded=True)
