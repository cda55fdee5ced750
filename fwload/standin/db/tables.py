"""The stand-in's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Only what the served API shows is stored. Actors are not a table: a local user *is* its
actor here. Secrets are stored as hashes only: passwords (PBKDF2), application tokens and
client secrets (SHA-256; they are random and long, so a fast hash is enough and lets a
Bearer request authenticate with one indexed lookup). The one exception is the Subsonic
password (`subsonic_tokens`), which the Subsonic protocol needs in clear.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

metadata = MetaData()

_ts = DateTime(timezone=True)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("password", String(200), nullable=False),
    Column("secret_key", String(36), nullable=False),
    Column("is_superuser", Boolean, nullable=False, default=False),
    Column("privacy_level", String(30), nullable=False, default="instance"),
    Column("upload_quota", Integer, nullable=True),
    Column("date_joined", _ts, nullable=False),
)
Index("ix_users_username_lower", func.lower(users.c.username), unique=True)

apps = Table(
    "oauth_apps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("client_id", String(100), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("client_secret_hash", String(64), nullable=False),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("created", _ts, nullable=False),
    Column("updated", _ts, nullable=False),
)

preferences = Table(
    "preferences",
    metadata,
    Column("identifier", String(150), primary_key=True),
    Column("value", JSON, nullable=True),
)

libraries = Table(
    "libraries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=True),
    Column("privacy_level", String(30), nullable=False),
    Column("creation_date", _ts, nullable=False),
)

artists = Table(
    "artists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("attributed_to", ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("creation_date", _ts, nullable=False),
    Column("modification_date", _ts, nullable=False),
)
Index("ix_artists_name_lower", func.lower(artists.c.name))

albums = Table(
    "albums",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("title", String(255), nullable=False),
    Column("artist_id", ForeignKey("artists.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attributed_to", ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("creation_date", _ts, nullable=False),
)

tracks = Table(
    "tracks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("title", String(255), nullable=False),
    Column("artist_id", ForeignKey("artists.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("album_id", ForeignKey("albums.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("position", Integer, nullable=True),
    Column("disc_number", Integer, nullable=True),
    Column("attributed_to", ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("downloads_count", Integer, nullable=False, default=0),
    Column("creation_date", _ts, nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("library_id", ForeignKey("libraries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("track_id", ForeignKey("tracks.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("file_path", Text, nullable=False),
    Column("mimetype", String(200), nullable=True),
    Column("size", Integer, nullable=False),
    Column("duration", Integer, nullable=True),
    Column("bitrate", Integer, nullable=True),
    Column("import_status", String(20), nullable=False, index=True),
    Column("import_details", JSON, nullable=False),
    Column("import_metadata", JSON, nullable=False),
    Column("import_reference", String(50), nullable=False, index=True),
    Column("source", String(500), nullable=True),
    Column("creation_date", _ts, nullable=False),
    Column("import_date", _ts, nullable=True),
    Column("accessed_date", _ts, nullable=True),
)

favorites = Table(
    "favorites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("track_id", ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False),
    Column("creation_date", _ts, nullable=False),
    UniqueConstraint("user_id", "track_id"),
)

playlists = Table(
    "playlists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("privacy_level", String(30), nullable=False),
    Column("creation_date", _ts, nullable=False),
    Column("modification_date", _ts, nullable=False),
)

playlist_tracks = Table(
    "playlist_tracks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("playlist_id", ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False),
    Column("track_id", ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False),
    Column("index", Integer, nullable=False),
    Column("creation_date", _ts, nullable=False),
    UniqueConstraint("playlist_id", "index"),
)

listenings = Table(
    "listenings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("track_id", ForeignKey("tracks.id", ondelete="CASCADE"), nullable=False),
    Column("creation_date", _ts, nullable=False),
)

upload_versions = Table(
    "upload_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("upload_id", ForeignKey("uploads.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("mimetype", String(50), nullable=False),
    Column("bitrate", Integer, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("creation_date", _ts, nullable=False),
    Column("accessed_date", _ts, nullable=True),
    UniqueConstraint("upload_id", "mimetype", "bitrate"),
)
"""Transcoded copies of uploads (Funkwhale's UploadVersion), one per (upload, mimetype, bitrate)."""

subsonic_tokens = Table(
    "subsonic_tokens",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("token", String(255), nullable=False),
)
"""The Subsonic password (``subsonic_api_token``), kept in clear as Funkwhale keeps it: the
salted form ``t = md5(token + s)`` needs the token itself. A table of its own, so a data
directory from before it existed gains it without a migration."""

album_covers = Table(
    "album_covers",
    metadata,
    Column("album_id", ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
    Column("file_path", Text, nullable=False),
    Column("mimetype", String(50), nullable=False),
    Column("size", Integer, nullable=False),
    Column("creation_date", _ts, nullable=False),
)
"""An album's cover (Funkwhale's ``attachment_cover``), taken from the first imported file that
embeds a picture. Only the Subsonic API shows it (``coverArt``, ``getCoverArt``); the v1 API's
``cover`` stays null."""
