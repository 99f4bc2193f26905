"""The Flask app factory. Nothing runs at import time; the scheduler is started by `serve`."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app

from warning.events import Outbox
from warning.models import utcnow
from warning.runtime import Runtime
from warning.settings import secret_key


def runtime() -> Runtime:
    """The running coldwarn (config, database, HTTP session) behind the current request."""
    return current_app.extensions["coldwarn"]


def web_outbox(session) -> Outbox:
    """The outbox for a change made by a person through the web or API: sent from now on."""
    return Outbox(session, None, utcnow(), runtime().settings.delivery.retry_schedule_s[0])


def create_app(rt: Runtime | None = None) -> Flask:
    rt = rt or Runtime.start()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key(rt.settings), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=rt.settings.web.secure_cookies,
                      SESSION_COOKIE_NAME="coldwarn_session",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=rt.settings.web.session_hours))
    app.json.ensure_ascii = False
    app.extensions["coldwarn"] = rt
    from werkzeug.exceptions import HTTPException

    from warning.web.api import api, http_error
    from warning.web.metrics import metrics
    from warning.web.pages import pages
    from warning.web.views import bp
    app.register_blueprint(bp)
    app.register_blueprint(metrics)
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_error_handler(HTTPException, http_error)
    return app
