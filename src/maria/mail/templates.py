"""The mails Maria sends, in plain text and HTML. Everything a user typed (a display name)
is escaped in the HTML; links are built from ``MARIA_PUBLIC_URL``."""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode

from maria.mail.transports import Message

PRODUCT = "Kinoway"


def _html(title: str, paragraphs: list[str], link: tuple[str, str] | None = None) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    if link is not None:
        label, href = link
        body += f'<p><a href="{escape(href, quote=True)}">{escape(label)}</a></p>'
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )


class Templates:
    def __init__(self, public_url: str) -> None:
        self._base = public_url.rstrip("/")

    def link(self, path: str, **query: str) -> str:
        return f"{self._base}{path}?{urlencode(query, quote_via=quote)}"

    def verify_email(self, to: str, name: str, token: str, hours: int) -> Message:
        link = self.link("/verify-email", token=token)
        return Message(
            to=to,
            subject=f"Confirm your email for {PRODUCT}",
            text=(
                f"Hello {name},\n\nconfirm that this is your email address:\n\n{link}\n\n"
                f"The link works once, for {hours} hours. If you did not sign up for "
                f"{PRODUCT}, ignore this mail.\n"
            ),
            html=_html(
                "Confirm your email",
                [
                    f"Hello {escape(name)},",
                    "confirm that this is your email address:",
                ],
                ("Confirm my email", link),
            ),
        )

    def reset_password(self, to: str, name: str, token: str, minutes: int) -> Message:
        link = self.link("/reset-password", token=token)
        return Message(
            to=to,
            subject=f"Reset your {PRODUCT} password",
            text=(
                f"Hello {name},\n\nsomeone asked to reset the password of this account. "
                f"Choose a new one here:\n\n{link}\n\nThe link works once, for {minutes} "
                "minutes. If it was not you, ignore this mail: your password stays.\n"
            ),
            html=_html(
                "Reset your password",
                [
                    f"Hello {escape(name)},",
                    "someone asked to reset the password of this account.",
                    f"The link works once, for {minutes} minutes. If it was not you, ignore "
                    "this mail: your password stays.",
                ],
                ("Choose a new password", link),
            ),
        )

    def password_changed(self, to: str, name: str) -> Message:
        return Message(
            to=to,
            subject=f"Your {PRODUCT} password was changed",
            text=(
                f"Hello {name},\n\nthe password of your account was just changed, and every "
                "device was signed out. If it was not you, reset your password at once.\n"
            ),
            html=_html(
                "Your password was changed",
                [
                    f"Hello {escape(name)},",
                    "the password of your account was just changed, and every device was "
                    "signed out. If it was not you, reset your password at once.",
                ],
            ),
        )

    def sign_in_code(self, to: str, code: str, minutes: int) -> Message:
        link = self.link("/sign-in", email=to, code=code)
        return Message(
            to=to,
            subject=f"{code} is your {PRODUCT} sign-in code",
            text=(
                f"Your sign-in code: {code}\n\nOr open this link:\n\n{link}\n\n"
                f"It works once, for {minutes} minutes. If you did not ask for it, ignore "
                "this mail.\n"
            ),
            html=_html(
                "Your sign-in code",
                [
                    f"Your sign-in code: <strong>{escape(code)}</strong>",
                    f"It works once, for {minutes} minutes. If you did not ask for it, ignore "
                    "this mail.",
                ],
                ("Sign in", link),
            ),
        )
