"""Request and response bodies of the movie-list endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from maria import examples as ex
from maria.fields import JsonPattern, Trimmed
from maria.lists.importer import ImportResult
from maria.lists.items import ItemView
from maria.lists.models import MAX_NOTE, MAX_TITLE
from maria.lists.pages import Page
from maria.lists.store import ListView


def _storable(text: str) -> str:
    """Refuse what a database can't store: NUL (Postgres text) and lone surrogates, which
    ``json.loads`` lets through."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


Title = Annotated[str, Trimmed(MAX_TITLE)]
ITEM: dict[str, Any] = {"movie_id": ex.SHAWSHANK, "added_at": ex.LATER, "note": "Rewatch with Dad"}
# Notes may span lines: only what no database stores is refused.
Note = Annotated[
    str,
    StringConstraints(max_length=MAX_NOTE),
    AfterValidator(_storable),
    JsonPattern("^[^\\u0000]*$"),
]


class ListCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Soviet classics", "is_public": True}]},
    )

    title: Title
    is_public: StrictBool = False


class ListPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Films for the weekend"}, {"is_public": True}]},
    )

    title: Title | None = None
    is_public: StrictBool | None = None


class ListOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slug": "favorites",
                    "title": "Favorites",
                    "is_public": True,
                    "builtin": True,
                    "count": 2,
                    "created_at": ex.CREATED_AT,
                    "updated_at": ex.LATER,
                }
            ]
        }
    )

    slug: str
    title: str
    is_public: bool
    builtin: bool = Field(description="`favorites` and `watch-later`: can't be renamed or deleted")
    count: int
    created_at: datetime
    updated_at: datetime = Field(description="Changes on every add, remove or edit")

    @classmethod
    def of(cls, view: ListView) -> ListOut:
        return cls(
            slug=view.slug,
            title=view.title,
            is_public=view.is_public,
            builtin=view.builtin,
            count=view.count,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class ItemPut(BaseModel):
    """Optional body of ``PUT …/items/{movie_id}``: without ``note`` the note is kept;
    ``null`` or ``""`` clears it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "Rewatch with Dad"}]}
    )

    note: Note | None = None


class ItemOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ITEM]})

    movie_id: int
    added_at: datetime
    note: str | None

    @classmethod
    def of(cls, item: ItemView) -> ItemOut:
        return cls(movie_id=item.movie_id, added_at=item.added_at, note=item.note)


class ItemPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        ITEM,
                        {"movie_id": ex.GREEN_MILE, "added_at": ex.CREATED_AT, "note": None},
                    ],
                    "next_cursor": ex.CURSOR,
                }
            ]
        }
    )

    items: list[ItemOut]
    next_cursor: str | None = Field(description="Opaque; pass as `cursor` for the next page")

    @classmethod
    def of(cls, page: Page) -> ItemPage:
        return cls(items=[ItemOut.of(i) for i in page.items], next_cursor=page.next_cursor)


class ImportIn(BaseModel):
    """The client's localStorage arrays, as stored. Elements that are not movie ids are
    counted as skipped, not refused, so one bad value does not block the move."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "favorites": [ex.SHAWSHANK, ex.GREEN_MILE, "326"],
                    "watch-later": [ex.FORREST_GUMP, ex.INTERSTELLAR],
                }
            ]
        },
    )

    favorites: list[Any] | None = None
    watch_later: list[Any] | None = Field(default=None, alias="watch-later")

    def arrays(self) -> dict[str, list[Any]]:
        return {"favorites": self.favorites or [], "watch-later": self.watch_later or []}


class ImportOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"added": 4, "existing": 0, "skipped": 1}]}
    )

    added: int = Field(description="Movies new to a list")
    existing: int = Field(description="Valid ids already in the list or repeated in the array")
    skipped: int = Field(description="Elements that are not movie ids (positive integers)")

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(added=result.added, existing=result.existing, skipped=result.skipped)
