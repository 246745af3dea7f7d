"""HTTP endpoints of the signed-in user's account (``/api/v1/users``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, File, Header, Path, Response, UploadFile, status
from starlette.types import Scope

from maria.errors import NotFound, PayloadTooLarge
from maria.http.deps import IdentityDep, service
from maria.http.identity import caller_of
from maria.http.openapi import doc
from maria.http.shortcut import with_shortcut
from maria.users import avatars
from maria.users.schemas import UserOut, UserPatch
from maria.users.service import UsersService
from maria.users.views import UserView

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Users = Annotated[UsersService, service("users")]


@lru_cache(maxsize=4096)
def _user_json(user: UserView) -> bytes:
    """Views are immutable and replaced on change, so their JSON can be kept with them."""
    return UserOut.of(user).model_dump_json().encode()


def _json(user: UserView) -> Response:
    return Response(_user_json(user), media_type="application/json")


def cached_me(scope: Scope, users: UsersService) -> Response | None:
    """``GET /me`` of a signed-in caller whose user this instance holds."""
    identity = caller_of(scope).identity
    if identity is None:
        return None
    user = users.cached(identity.user_id)
    if user is None or user.disabled:
        return None
    return _json(user)


async def get_me(identity: IdentityDep, users: Users) -> Response:
    """The signed-in user's profile."""
    return _json(await users.active(identity.user_id))


router.add_api_route(
    "/me",
    get_me,
    methods=["GET"],
    response_model=UserOut,
    route_class_override=with_shortcut("users", cached_me),
    **doc("getMe", "Get your profile"),
)


@router.patch("/me", response_model=UserOut, **doc("updateMe", "Change your display name"))
async def patch_me(body: UserPatch, identity: IdentityDep, users: Users) -> Response:
    """Change the display name: NFC, 1-64 characters after trimming, no control or
    text-direction characters, at least one visible one."""
    return _json(await users.update_profile(identity.user_id, display_name=body.display_name))


@router.put(
    "/me/avatar",
    response_model=UserOut,
    **doc(
        "uploadAvatar",
        "Upload your avatar",
        PayloadTooLarge("An avatar is at most 5 MiB"),
        avatars.refusal("The file must be a PNG, JPEG or WebP image"),
    ),
)
async def put_avatar(
    file: Annotated[UploadFile, File(description="PNG, JPEG or WebP, at most 5 MiB")],
    identity: IdentityDep,
    users: Users,
) -> Response:
    """Upload a picture: it is checked, cropped to 256×256 and re-encoded as WebP without
    any of the original's metadata; `avatar_url` names the result by its content."""
    upload = await file.read(avatars.MAX_BYTES + 1)
    if len(upload) > avatars.MAX_BYTES:
        raise PayloadTooLarge("An avatar is at most 5 MiB")
    return _json(await users.set_avatar(identity.user_id, upload))


@router.delete("/me/avatar", response_model=UserOut, **doc("deleteAvatar", "Remove your avatar"))
async def delete_avatar(identity: IdentityDep, users: Users) -> Response:
    """Back to no avatar (`avatar_url` null); the old picture's URL stops answering."""
    return _json(await users.delete_avatar(identity.user_id))


avatars_router = APIRouter(prefix="/api/v1/avatars", tags=["users"])
AVATAR_CACHE = "public, max-age=31536000, immutable"


@avatars_router.get(
    "/{digest}.webp",
    response_class=Response,
    **doc(
        "getAvatar",
        "Get an avatar picture",
        NotFound("No such avatar"),
        responses={
            200: {"description": "A 256×256 WebP image", "content": {"image/webp": {}}},
            304: {"description": "Not modified: the ETag sent in If-None-Match"},
        },
    ),
)
async def get_avatar(
    digest: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    users: Users,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """An avatar by its content's name: never changes, so caches may keep it for good."""
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": AVATAR_CACHE}
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    data = await users.avatar(digest)
    if data is None:
        raise NotFound("No such avatar")
    return Response(data, media_type="image/webp", headers=headers)
