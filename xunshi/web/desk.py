"""What every route of the desk uses: the services, the session keys and the templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment

from xunshi.bootstrap import Services
from xunshi.web.sessions import COOKIE, LIFETIME, Session, Sessions


class SignInNeeded(Exception):
    """The page needs a signed-in user: go to the sign-in page."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign in")
        self.expired = expired


@dataclass
class Desk:
    """The services, the session keys, the templates, the pause after a failed sign-in."""

    services: Services
    sessions: Sessions
    templates: Environment
    failure_delay: float

    def render(
        self, template: str, session: Session | None, status: int = 200, /, **context: Any
    ) -> HTMLResponse:
        """A page from its template with the session's CSRF token; the cookie refreshed."""
        csrf = "" if session is None else session.csrf
        html = self.templates.get_template(template).render(csrf=csrf, **context)
        response = HTMLResponse(html, status_code=status)
        if session is not None:
            self.keep(response, session)
        return response

    def keep(self, response: Response, session: Session) -> None:
        """Set the session cookie (signed, HttpOnly, SameSite=Lax, 8 hours)."""
        response.set_cookie(
            COOKIE,
            self.sessions.dump(session),
            max_age=int(LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            # Not Secure-only: the desk is served on loopback or behind the office's own
            # proxy, which terminates TLS.
        )


def desk_of(request: Request) -> Desk:
    """The desk the request's application was built with."""
    desk: Desk = request.app.state.desk
    return desk
