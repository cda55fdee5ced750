"""Who may see and play what, as SQL conditions (Funkwhale's viewable_by / playable_by).

A library is visible to its owner, to every local user when its privacy level is
``instance`` or ``everyone``, and to anonymous clients only when ``everyone``. An upload is
playable when its import finished or was skipped (a duplicate still plays) and its library
is visible. A track is playable when one of its uploads is.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, or_, select

from fwload.standin.db.tables import libraries, uploads, users

PLAYABLE_STATUSES = ("finished", "skipped")


def library_visible(viewer_id: int | None) -> ColumnElement[bool]:
    if viewer_id is None:
        return libraries.c.privacy_level == "everyone"
    return or_(libraries.c.user_id == viewer_id, libraries.c.privacy_level.in_(("instance", "everyone")))


def upload_playable(viewer_id: int | None) -> ColumnElement[bool]:
    """Condition on `uploads` joined with `libraries`."""
    return and_(uploads.c.import_status.in_(PLAYABLE_STATUSES), library_visible(viewer_id))


def playable_track_ids(viewer_id: int | None) -> Select:
    return (
        select(uploads.c.track_id)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.track_id.is_not(None), upload_playable(viewer_id))
    )


def owned_track_ids(owner_id: int) -> Select:
    """Tracks with an upload in the owner's libraries (``scope=me``)."""
    return (
        select(uploads.c.track_id)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.track_id.is_not(None), libraries.c.user_id == owner_id)
    )


def library_track_ids(library_uuid: str, viewer_id: int | None) -> Select:
    return (
        select(uploads.c.track_id)
        .join(libraries, libraries.c.id == uploads.c.library_id)
        .where(uploads.c.track_id.is_not(None), libraries.c.uuid == library_uuid, library_visible(viewer_id))
    )


def activity_visible(user_id_column: ColumnElement[int], viewer_id: int | None) -> ColumnElement[bool]:
    """Favorites and listenings of users whose privacy level lets the viewer see them."""
    levels = ("everyone",) if viewer_id is None else ("instance", "everyone")
    public_users = select(users.c.id).where(users.c.privacy_level.in_(levels))
    if viewer_id is None:
        return user_id_column.in_(public_users)
    return or_(user_id_column == viewer_id, user_id_column.in_(public_users))
