"""Accounts, roles, scope and API tokens.

Roles: admin (everything), province (their province), county (their county), viewer (read-only,
everywhere). Passwords are salted scrypt hashes (werkzeug); API tokens are random, shown once and
stored as SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from triggers.regioncodes import NATION
from triggers.validation import InvalidConfig
from warning.models import ApiToken, AuditEntry, LoginFailure, LoginSession, User, utcnow

ROLES = ("admin", "province", "county", "viewer")
TOKEN_PREFIX = "cw_"
MIN_PASSWORD = 12


def create_user(session: Session, name: str, role: str, region_code: str | None, password: str,
                known_codes: set[str], actor: str) -> User:
    problems = []
    if not re.fullmatch(r"[\w.@-]{2,100}", name):
        problems.append("name: 2-100 letters, digits or . _ @ -")
    if role not in ROLES:
        problems.append(f"role: one of {', '.join(ROLES)}")
    if role == "province" and not (region_code and region_code.endswith("0000") and region_code in known_codes):
        problems.append("region: a province user needs a province code (xx0000)")
    if role == "county" and not (region_code and not region_code.endswith("00") and region_code in known_codes):
        problems.append("region: a county user needs a county code")
    if role in ("admin", "viewer") and region_code:
        problems.append(f"region: a {role} is not limited to a region")
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.name == name)):
        problems.append(f"name: {name} exists already")
    if problems:
        raise InvalidConfig(problems)
    user = User(name=name, role=role, region_code=region_code or None, active=True, created_at=utcnow(),
                password_hash=generate_password_hash(password))
    session.add(user)
    audit(session, actor, "user.create", f"user/{name}", None, {"role": role, "region": region_code})
    return user


def check_password(session: Session, name: str, password: str) -> User | None:
    """The user, if the name and password match. An unknown name costs a hash check too, so the
    answer's timing does not tell which names exist."""
    user = session.scalars(select(User).where(User.name == name, User.active)).first()
    matches = check_password_hash(user.password_hash if user else stand_in_hash(), password)
    return user if user and matches else None


@functools.cache
def stand_in_hash() -> str:
    """A hash made like every stored one, checked against for names that do not exist."""
    return generate_password_hash(secrets.token_urlsafe(16))


def start_login_session(session: Session, user: User) -> str:
    """A new server-side login for `user`; the token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, token_sha256=digest(token), created_at=utcnow()))
    return token


def user_of_login(session: Session, token: str) -> User | None:
    """The active user whose login this token is, while it has not ended."""
    return session.scalars(select(User).join(LoginSession, LoginSession.user_id == User.id).where(
        LoginSession.token_sha256 == digest(token), LoginSession.ended_at.is_(None), User.active)).first()


def end_login_session(session: Session, token: str) -> None:
    session.execute(update(LoginSession).where(LoginSession.token_sha256 == digest(token),
                                               LoginSession.ended_at.is_(None)).values(ended_at=utcnow()))


THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 10
MAX_FAILURES_PER_ADDRESS = 50  # an office behind one NAT address has many honest typists


def login_throttled(session: Session, name: str, address: str) -> bool:
    """Too many recent failures for this name or from this address: refuse before checking the password."""
    since = utcnow() - THROTTLE_WINDOW
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    return (session.scalar(recent.where(LoginFailure.name == name[:100])) >= MAX_FAILURES_PER_NAME
            or session.scalar(recent.where(LoginFailure.address == address[:64])) >= MAX_FAILURES_PER_ADDRESS)


def record_login(session: Session, name: str, address: str, succeeded: bool) -> None:
    if succeeded:  # a success clears the name's count: a typo yesterday must not lock anyone out today
        session.execute(delete(LoginFailure).where(LoginFailure.name == name[:100]))
    else:
        session.add(LoginFailure(at=utcnow(), name=name[:100], address=address[:64]))


def prune_login_failures(session: Session) -> int:
    return session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - THROTTLE_WINDOW)).rowcount


def create_token(session: Session, user_name: str, label: str, actor: str) -> str:
    user = session.scalars(select(User).where(User.name == user_name, User.active)).first()
    if user is None:
        raise InvalidConfig([f"user: no active user {user_name}"])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=digest(token), prefix=token[:11], label=label or "api",
                         created_at=utcnow()))
    audit(session, actor, "token.create", f"user/{user_name}", None, {"prefix": token[:11], "label": label})
    return token


def revoke_token(session: Session, prefix: str, actor: str) -> int:
    tokens = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = utcnow()
        audit(session, actor, "token.revoke", f"token/{prefix}", None, None)
    return len(tokens)


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == digest(token),
                                                 ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if not user.active:
        return None
    row.last_used_at = utcnow()
    return user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_see(user: User, region_code: str) -> bool:
    """Read access to a region (or an area code: prefecture, province, nation)."""
    if user.role in ("admin", "viewer"):
        return True
    if user.role == "province":
        return region_code[:2] == user.region_code[:2]
    return region_code.startswith(user.region_code)  # the county and its townships


def visible_codes(user: User, column):
    """can_see as a SQL condition on a region-code column."""
    if user.role in ("admin", "viewer"):
        return true()
    if user.role == "province":
        return column.startswith(user.region_code[:2])
    return column.startswith(user.region_code)


def own_area(user: User) -> str:
    """The area a user answers for: the nation (admins, viewers), their province, or their county."""
    if user.role in ("admin", "viewer"):
        return NATION
    return user.region_code[:2] + "0000" if user.role == "province" else user.region_code


def can_change(user: User, region_code: str) -> bool:
    return user.role != "viewer" and can_see(user, region_code)


def audit(session: Session, actor: str, action: str, target: str, before: dict | None, after: dict | None,
          reason: str | None = None) -> None:
    session.add(AuditEntry(at=utcnow(), actor=actor, action=action, target=target, reason=reason,
                           before=before, after=after))
