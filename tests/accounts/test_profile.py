"""The profile: display names that render, password changes, avatars."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.api import ME, PASSWORD, assert_error, bearer, register
from tests.support.mail import MailSink

AVATAR = f"{ME}/avatar"
NEW_PASSWORD = "a brand new passphrase 42"


# -- display names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, stored",
    [
        ("  Neo  ", "Neo"),
        ("Cafe\u0301", "Café"),  # NFC: one code point, as typed on another keyboard
        ("Анна", "Анна"),
        ("👩\u200d🚀", "👩\u200d🚀"),  # a zero-width joiner inside an emoji is fine
        ("x" * 64, "x" * 64),
    ],
)
async def test_display_names_are_normalised(
    client: httpx.AsyncClient, name: str, stored: str
) -> None:
    session = await register(client)
    response = await client.patch(ME, json={"display_name": name}, headers=bearer(session))
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == stored


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 65,
        "\u200b\u200b",  # only zero-width spaces: renders blank
        "\u202e\u202e",  # only bidi overrides
        "evil\u202etxt.exe",  # a bidi override anywhere
        "\u2066isolate\u2069",
        "bell\x07",
        "new\nline",
        "\x00",
        "\u00a0\u3000",  # only no-break and ideographic spaces
    ],
)
async def test_display_names_that_would_not_render_are_refused(
    client: httpx.AsyncClient, name: str
) -> None:
    session = await register(client, display_name="Kept")
    response = await client.patch(ME, json={"display_name": name}, headers=bearer(session))
    assert_error(response, 422, "validation_error")
    assert (await client.get(ME, headers=bearer(session))).json()["display_name"] == "Kept"
    bad = {"email": "bad-name@example.com", "password": PASSWORD, "display_name": name}
    assert_error(await client.post("/api/v1/auth/register", json=bad), 422, "validation_error")


# -- password change ------------------------------------------------------------------------


async def test_changing_the_password_keeps_this_session_only(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="change@example.com")
    other = (
        await mail_client.post(
            "/api/v1/auth/login", json={"email": "change@example.com", "password": PASSWORD}
        )
    ).json()
    response = await mail_client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(session),
    )
    assert response.status_code == 204, response.text
    assert (await mail_client.get(ME, headers=bearer(session))).status_code == 200
    assert_error(await mail_client.get(ME, headers=bearer(other)), 401, "invalid_token")
    login = await mail_client.post(
        "/api/v1/auth/login", json={"email": "change@example.com", "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    notice = (await sink.wait("change@example.com", 2))[1]
    assert "password was changed" in notice["Subject"]


async def test_a_password_change_needs_the_current_one_and_the_policy(
    client: httpx.AsyncClient,
) -> None:
    session = await register(client)
    for body, status, code in (
        (
            {"current_password": "wrong one", "new_password": NEW_PASSWORD},
            401,
            "invalid_credentials",
        ),
        ({"new_password": NEW_PASSWORD}, 401, "invalid_credentials"),
        ({"current_password": PASSWORD, "new_password": "password"}, 422, "validation_error"),
        ({"current_password": PASSWORD, "new_password": "short"}, 422, "validation_error"),
        ({"current_password": PASSWORD}, 422, "validation_error"),
        ({"current_password": PASSWORD, "new_password": 5}, 422, "validation_error"),
        ([], 422, "validation_error"),
    ):
        response = await client.post(f"{ME}/password", json=body, headers=bearer(session))
        assert_error(response, status, code)
    # Nothing changed.
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": session["user"]["email"], "password": PASSWORD},
    )
    assert login.status_code == 200


# -- avatars --------------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (400, 300), **save: Any) -> bytes:
    image = Image.new("RGB", size, (200, 30, 60))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get(0x010F) == "SpyCam"
    return data


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` × ``height``: a decompression bomb's first
    bytes (a real one inflates to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def animated_png() -> bytes:
    frames = [Image.new("RGB", (64, 64), (i * 80, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:])
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient, session: dict[str, Any], data: bytes, name: str = "me.png"
) -> httpx.Response:
    return await client.put(
        AVATAR, files={"file": (name, data, "application/octet-stream")}, headers=bearer(session)
    )


@pytest.mark.parametrize(
    "data",
    [
        image_bytes("PNG"),
        image_bytes("JPEG", quality=90),
        image_bytes("WEBP"),
        jpeg_with_gps(),
        image_bytes("PNG", size=(30, 900)),
    ],
    ids=["png", "jpeg", "webp", "jpeg-exif-gps", "tall-png"],
)
async def test_avatars_are_remade_as_small_clean_webp(
    client: httpx.AsyncClient, data: bytes
) -> None:
    session = await register(client)
    response = await upload(client, session, data)
    assert response.status_code == 200, response.text
    url = response.json()["avatar_url"]
    assert url.startswith("http") and url.endswith(".webp")
    assert (await client.get(ME, headers=bearer(session))).json()["avatar_url"] == url
    path = "/" + url.split("/", 3)[3]
    served = await client.get(path)  # no sign-in needed
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["etag"].strip('"') in url
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "WEBP" and image.size == (256, 256)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert len(served.content) < 30_000
    again = await client.get(path, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304


async def test_replacing_and_deleting_leave_nothing_behind(client: httpx.AsyncClient) -> None:
    session = await register(client)
    first = (await upload(client, session, image_bytes("PNG"))).json()["avatar_url"]
    second = (await upload(client, session, image_bytes("JPEG"))).json()["avatar_url"]
    assert first != second
    path = lambda url: "/" + url.split("/", 3)[3]  # noqa: E731
    assert_error(await client.get(path(first)), 404, "not_found")
    assert (await client.get(path(second))).status_code == 200
    deleted = await client.delete(AVATAR, headers=bearer(session))
    assert deleted.status_code == 200 and deleted.json()["avatar_url"] is None
    assert_error(await client.get(path(second)), 404, "not_found")


@pytest.mark.parametrize(
    "data, name",
    [
        (b"just some text, honestly an image", "photo.png"),
        (image_bytes("PNG")[:200], "truncated.png"),
        (png_claiming(100_000, 100_000), "bomb.png"),
        (animated_png(), "animated.png"),
        (image_bytes("GIF"), "old.gif"),
        (image_bytes("BMP"), "old.bmp"),
        (b"", "empty.png"),
    ],
    ids=["text", "truncated", "bomb", "animated", "gif", "bmp", "empty"],
)
async def test_what_is_not_a_still_png_jpeg_or_webp_is_refused(
    client: httpx.AsyncClient, data: bytes, name: str
) -> None:
    session = await register(client)
    response = await upload(client, session, data, name)
    assert_error(response, 422, "validation_error")
    assert (await client.get(ME, headers=bearer(session))).json()["avatar_url"] is None


async def test_an_upload_over_5_mib_is_refused_unread(client: httpx.AsyncClient) -> None:
    session = await register(client)
    big = b"\x89PNG" + b"\x00" * (6 * 1024 * 1024)
    response = await upload(client, session, big)
    assert_error(response, 413, "payload_too_large")
    just_over = image_bytes("PNG") + b"\x00" * (5 * 1024 * 1024)
    assert_error(await upload(client, session, just_over), 413, "payload_too_large")


async def test_avatar_bad_requests(client: httpx.AsyncClient) -> None:
    session = await register(client)
    no_file = await client.put(AVATAR, data={"x": "1"}, headers=bearer(session))
    assert_error(no_file, 422, "validation_error")
    not_multipart = await client.put(AVATAR, json={"file": "x"}, headers=bearer(session))
    assert_error(not_multipart, 422, "validation_error")
    client.cookies.clear()
    assert_error(await client.put(AVATAR, files={"file": ("a", b"x")}), 401, "not_authenticated")
    for path in ("/api/v1/avatars/nothex.webp", "/api/v1/avatars/" + "a" * 32 + ".webp"):
        response = await client.get(path)
        assert response.status_code in (404, 422)
