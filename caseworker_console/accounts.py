"""Staff accounts: creating them with checked usernames and passwords, and signing in with lockout."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import gettext
import logging
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from caseworker_console.i18n import LANGUAGES
from caseworker_console.permissions import Permission, allows
from programme.text import N_, NP_, Plural
from storage import staff
from storage.models import StaffUser, utcnow
from storage.queries import record_audit

ROLES: tuple[str, ...] = ("caseworker", "supervisor", "outreach", "admin")


def reads_cases(role: str) -> bool:
    """A role that opens cases: giving it to an account in the console needs a second person."""
    return allows(role, Permission.CASE_READ)


def _case_reach(role: str) -> int:
    """How much case data a role opens: none, one's own and the queue's, every case."""
    return 2 if role == "supervisor" else 1 if reads_cases(role) else 0


def gives_more(old_role: str, new_role: str) -> bool:
    """Whether a change of role opens more case data (so needs a supervisor's approval)."""
    return _case_reach(new_role) > _case_reach(old_role)


USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MAX_LENGTH = 120

# Failed sign-ins of one account, from every address, that lock it. Guesses from one address stop
# far earlier (caseworker_console.throttle): this count is reached only by guesses spread over many.
MAX_FAILED_LOGINS = 30
LOCKOUT = dt.timedelta(minutes=30)
# Argon2 takes tens of milliseconds of a core by design: at most this many run at once (the small
# server's cores), and a sign-in that would wait behind more than ARGON2_QUEUE others is turned away
# (Busy) rather than letting a flood of sign-ins take every core from the bot and the console.
ARGON2_AT_ONCE = 2
ARGON2_QUEUE = 16

# A temporary password: 16 letters and digits (about 80 bits), in groups of four, without the ones
# people mistake for each other when it is read out or copied from a screen (0/O, 1/l/I).
TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
TEMPORARY_GROUPS = 4

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile; changing them later
# is safe because every successful sign-in rehashes an outdated hash.
_hasher = PasswordHasher()

logger = logging.getLogger(__name__)


class Busy(Exception):
    """Too many passwords are being checked at once; the sign-in should be tried again shortly."""


class _Argon2Pool:
    """Argon2 work on a few threads of its own, with a bounded queue (independent of any event loop)."""

    def __init__(self, workers: int, queue: int) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self._limit = workers + queue
        self._pending = 0
        self._lock = threading.Lock()

    async def run(self, function: Callable[..., Any], *args: Any, turn_away: bool = True) -> Any:
        """`function(*args)` on the pool; Busy if the queue is full and `turn_away` (a sign-in,
        which may be tried again; an administrator's new password just waits its turn)."""
        with self._lock:
            if turn_away and self._pending >= self._limit:
                raise Busy
            self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
        finally:
            with self._lock:
                self._pending -= 1


_argon2 = _Argon2Pool(ARGON2_AT_ONCE, ARGON2_QUEUE)


class AccountError(ValueError):
    """An account cannot be created as asked; str() is one clear English sentence.

    `message` is a gettext msgid (marked for extraction), or a Plural counted by `params["count"]`,
    and `params` fill its {placeholders} after translation, so the console can show the same
    sentence in the reader's language.
    """

    def __init__(self, message: str | Plural, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(self.translated(gettext.NullTranslations()))

    def translated(self, translations: gettext.NullTranslations) -> str:
        if isinstance(self.message, Plural):
            return translations.ngettext(*self.message, self.params["count"]).format(**self.params)
        return translations.gettext(self.message).format(**self.params)


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def normalise_username(username: str) -> str:
    return username.strip().lower()


def normalise_password(password: str) -> str:
    # The same passphrase typed on two keyboards can arrive composed or decomposed (NIST SP 800-63B).
    return unicodedata.normalize("NFKC", password)


def validate_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise AccountError(
            N_(
                "A username has 3 to 64 characters: lower-case letters a–z, digits, "
                "dots, hyphens and underscores."
            )
        )
    return name


def validate_password(password: str, *, username: str = "") -> str:
    """Length and a list of common passwords only: composition rules make passwords weaker in practice."""
    password = normalise_password(password)
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(
            NP_(
                "A password needs at least {count} character.",
                "A password needs at least {count} characters.",
            ),
            count=PASSWORD_MIN_LENGTH,
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise AccountError(
            NP_(
                "A password can have at most {count} character.",
                "A password can have at most {count} characters.",
            ),
            count=PASSWORD_MAX_LENGTH,
        )
    folded = password.casefold()
    if folded in common_passwords():
        raise AccountError(
            N_(
                "This password is one of the most common ones. "
                "Choose a longer phrase only you would think of."
            )
        )
    if username and folded == normalise_username(username).casefold():
        raise AccountError(N_("A password must not be the same as the username."))
    return password


def _validate_choice(role: str, language: str, display_name: str) -> None:
    if role not in ROLES:
        raise AccountError(N_("The role must be one of: {roles}."), roles=", ".join(ROLES))
    if language not in LANGUAGES:
        raise AccountError(N_("The language must be one of: {languages}."), languages=", ".join(LANGUAGES))
    if len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        raise AccountError(
            NP_(
                "A display name can have at most {count} character.",
                "A display name can have at most {count} characters.",
            ),
            count=DISPLAY_NAME_MAX_LENGTH,
        )


async def hash_password(password: str) -> str:
    # Hashing takes tens of milliseconds of CPU by design; keep it off the event loop.
    return str(await _argon2.run(_hasher.hash, normalise_password(password), turn_away=False))


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    language: str = "en",
    actor: str = "system",
    needs_approval: bool = False,
    temporary_password: bool = False,
) -> StaffUser:
    """Add an active account (flushed, not committed: the caller owns the transaction).

    `actor` names who created it in the audit log (the CLI, or an administrator). With
    `needs_approval` (an administrator in the console) an account whose role reads cases is made
    disabled and waits for a supervisor's approval (approve_grant): no one gives case data alone.
    With `temporary_password` (also an administrator's) the holder must choose their own password
    at their first sign-in: whoever made the account does not keep one that works.
    """
    name = validate_username(username)
    password = validate_password(password, username=name)
    display_name = " ".join(display_name.split())
    _validate_choice(role, language, display_name)
    if await staff.find_user_by_username(session, username=name) is not None:
        raise AccountError(N_("The username {username} is already taken."), username=name)
    password_hash = await hash_password(password)
    waits = needs_approval and reads_cases(role)
    try:
        # A savepoint, so losing a race for the name leaves the caller's transaction usable.
        async with session.begin_nested():
            user = await staff.add_user(
                session,
                username=name,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                language=language,
                at=utcnow(),
                awaiting_approval=waits,
                must_change_password=temporary_password,
            )
    except IntegrityError:
        raise AccountError(N_("The username {username} is already taken."), username=name) from None
    await _audit_account(
        session,
        user,
        "staff.created",
        actor=actor,
        details={"role": role, "awaiting_approval": True} if waits else {"role": role},
    )
    return user


async def enable(session: AsyncSession, *, user: StaffUser, actor: str) -> bool:
    """Enable a disabled account (an administrator's act). One whose role reads cases is not enabled
    but put up for a supervisor's approval (once: asking again changes nothing); True when it is
    active now."""
    if user.awaiting_approval:
        return False
    waits = reads_cases(user.role)
    await staff.set_user_active(session, user_id=user.id, active=not waits, awaiting_approval=waits)
    await _audit_account(
        session,
        user,
        "staff.grant_requested" if waits else "staff.enabled",
        actor=actor,
        details={"role": user.role} if waits else {},
    )
    return not waits


async def approve_grant(session: AsyncSession, *, user: StaffUser, actor: str) -> bool:
    """A supervisor approves an account waiting for access to case data: it is enabled, or given the
    role it waits for, audited. False (nothing changed) when it no longer waits."""
    role = user.pending_role or user.role
    if not await staff.approve_user(session, user_id=user.id):
        return False
    await _audit_account(session, user, "staff.grant_approved", actor=actor, details={"role": role})
    return True


async def refuse_grant(session: AsyncSession, *, user: StaffUser, actor: str) -> bool:
    """A supervisor refuses it: the account stays as it was (disabled, or in its present role),
    audited. False when it no longer waits."""
    role = user.pending_role or user.role
    if not await staff.refuse_user(session, user_id=user.id):
        return False
    await _audit_account(session, user, "staff.grant_refused", actor=actor, details={"role": role})
    return True


async def set_password(
    session: AsyncSession, *, user: StaffUser, password: str, actor: str = "system"
) -> None:
    """Give an account a new password (same rules as create_user); lifts a lock, ends its sessions."""
    password = validate_password(password, username=user.username)
    await staff.replace_password_hash(session, user_id=user.id, password_hash=await hash_password(password))
    await _audit_account(session, user, "staff.password_set", actor=actor)


def new_temporary_password() -> str:
    return "-".join(
        "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(TEMPORARY_GROUPS)
    )


async def reset_password(session: AsyncSession, *, user: StaffUser, actor: str) -> str:
    """An administrator's reset: a new temporary password, returned to be shown once and stored only
    as its hash. It lifts a lock and ends the account's sessions; the holder must change it at their
    next sign-in (nothing else works until they do)."""
    password = new_temporary_password()
    await staff.replace_password_hash(
        session, user_id=user.id, password_hash=await hash_password(password), temporary=True
    )
    await _audit_account(session, user, "staff.password_reset", actor=actor)
    return password


async def change_own_password(
    session: AsyncSession, *, user: StaffUser, current: str, new: str, repeated: str, keep_session: str
) -> None:
    """The holder's own change, proving the current password first; their other sessions end."""
    if not await _verify(user.password_hash, current):
        raise AccountError(N_("The current password is not right."))
    if normalise_password(new) != normalise_password(repeated):
        raise AccountError(N_("The new password and its repetition differ."))
    password = validate_password(new, username=user.username)
    if password == normalise_password(current):
        raise AccountError(N_("The new password must differ from the current one."))
    await staff.replace_password_hash(
        session, user_id=user.id, password_hash=await hash_password(password), keep_session=keep_session
    )
    await _audit_account(session, user, "staff.password_changed")


async def change_role(session: AsyncSession, *, user: StaffUser, role: str, actor: str) -> bool:
    """An administrator changes an account's role, audited; True when it holds now. A change that
    opens more case data (gives_more) waits for a supervisor's approval, the account at work in its
    present role meanwhile."""
    if role not in ROLES:
        raise AccountError(N_("The role must be one of: {roles}."), roles=", ".join(ROLES))
    if user.awaiting_approval:
        raise AccountError(N_("This account waits for a supervisor's approval: its role cannot change now."))
    old = user.role
    if role == old:
        return True
    waits = gives_more(old, role) and user.active
    if waits:
        await staff.ask_for_role(session, user_id=user.id, role=role)
    else:
        await staff.set_role(session, user_id=user.id, role=role)
    await _audit_account(
        session,
        user,
        "staff.grant_requested" if waits else "staff.role_changed",
        actor=actor,
        details={"role": role, "from": old},
    )
    return not waits


async def change_language(session: AsyncSession, *, user: StaffUser, language: str, actor: str) -> None:
    """The console's language for an account (by its holder or an administrator), audited."""
    if language not in LANGUAGES:
        raise AccountError(N_("The language must be one of: {languages}."), languages=", ".join(LANGUAGES))
    if language == user.language:
        return
    await staff.set_language(session, user_id=user.id, language=language)
    await _audit_account(session, user, "staff.language_set", actor=actor, details={"language": language})


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


async def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(await _argon2.run(_hasher.verify, password_hash, normalise_password(password)))
    except (VerificationError, InvalidHashError):
        return False


def is_locked(user: StaffUser, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


async def authenticate(session: AsyncSession, *, username: str, password: str) -> StaffUser | None:
    """The account these credentials open, or None for every kind of failure alike.

    Unknown names are checked against a dummy hash so that timing does not tell which usernames
    exist; a locked or disabled account answers exactly as a wrong password does. Changes (the
    failure count, a lock, a rehash) are flushed; the caller commits them. Raises Busy when too many
    passwords are being checked at once.
    """
    name = normalise_username(username)
    user = None
    if USERNAME_PATTERN.fullmatch(name):
        user = await staff.find_user_by_username(session, username=name)
    stored_hash = user.password_hash if user is not None else await _argon2.run(_dummy_hash)
    matches = await _verify(stored_hash, password)
    now = utcnow()
    if user is None:
        # The typed name is not logged: people type their password into the username field.
        logger.info("console sign-in failed for an unknown username")
        return None
    if not user.active or is_locked(user, now):
        # Not counted: a lock already stops guessing, and counting would only prolong it.
        await _audit_account(session, user, "staff.login_refused")
        return None
    if not matches:
        locked = await staff.count_failed_login(
            session, user_id=user.id, threshold=MAX_FAILED_LOGINS, lock_until=now + LOCKOUT
        )
        await _audit_account(session, user, "staff.locked" if locked else "staff.login_failed")
        return None
    new_hash = await hash_password(password) if _hasher.check_needs_rehash(stored_hash) else None
    await staff.record_successful_login(session, user_id=user.id, at=now, new_password_hash=new_hash)
    await _audit_account(session, user, "staff.login")
    return user


async def unlock(session: AsyncSession, *, user: StaffUser, actor: str) -> None:
    """Lift an account's lock after failed sign-ins (an administrator's act, audited)."""
    await staff.unlock_user(session, user_id=user.id)
    await _audit_account(session, user, "staff.unlocked", actor=actor)


async def _audit_account(
    session: AsyncSession,
    user: StaffUser,
    action: str,
    *,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """`action` on the account in the audit log; by default the holder's own act (a sign-in)."""
    await record_audit(
        session,
        actor=actor or f"staff:{user.id}",
        action=action,
        object_type="staff_user",
        object_id=str(user.id),
        details=details or {},
    )
