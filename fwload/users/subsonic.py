"""A person listening with a Subsonic app (DSub, Symfonium, Ultrasonic) instead of the web UI.

Built from funkwhale-api.md §7 and samples 57-63 only, so it runs unchanged against a real
Funkwhale 1.4. Like an app: the account's Subsonic password is set up once (read, or made
when the account has none, with HTTP Basic on ``/api/v1/users/<name>/subsonic-token/``; a
users file may carry it); at start the app checks the server (``ping``, ``getLicense``,
``getMusicFolders``) and loads the artist list once (``getArtists``); then each session
browses an artist and an album (``getArtist``, ``getAlbum``), searches (``search3``) or
shuffles (``getRandomSongs``), fetches cover art for what the screen shows, and plays songs
with ``stream.view`` through the real-time player (start-up delay and stalls measured, as for
web listeners) between ``scrobble submission=false`` ("now playing") and ``submission=true``.

Every call goes through nginx's ``/rest/`` with ``f=json`` and is named by its method
(``/rest/getAlbum.view``, group ``subsonic``): credentials ride in the query string only.
An answer with ``status: failed`` is a failure ``subsonic <code>: <message>`` (code 70 from
``getCoverArt`` included: the item said it had a cover).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, ClassVar

from gevent.lock import Semaphore
from locust import task
from pydantic import SecretStr

from fwload.funkwhale import api, paths, subsonic
from fwload.funkwhale.accounts import Account
from fwload.users.base import CannotStart, FunkwhaleUser, Reply, _group_context
from fwload.users.options import SubsonicListenerOptions
from fwload.users.player import AudioSource, Player
from fwload.users.sessions import Session

GROUP = "subsonic"


class SubsonicListener(FunkwhaleUser):
    weight = 1
    options: ClassVar[SubsonicListenerOptions] = SubsonicListenerOptions()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.password: SecretStr | None = None
        self.artists: list[subsonic.Item] = []
        self.seen: list[subsonic.Item] = []

    # -- the app starting ------------------------------------------------------------------

    def authenticate(self) -> None:
        """A Subsonic app starting: its password set up once, then the server checked."""
        self.open_app()

    def open_app(self) -> float:
        """What the app does when a person opens it: set up the password (first time), check the
        server (``ping``, ``getLicense``, ``getMusicFolders``), load the artists once. Returns
        when the first answer came (an arrivals session's first answer)."""
        if self.password is None:
            self.account = self._pick_account()
            if not self._fetch_password(self.account):
                raise CannotStart("no Subsonic password: reading or making it with Basic auth failed")
        if not self.rest("ping").ok and not (self._password_was_fetched() and self.rest("ping").ok):
            raise CannotStart("the Subsonic ping failed")
        first_answer = time.time()
        self.rest("getLicense")
        self.rest("getMusicFolders")
        if not self.artists:
            self.load_artists()
        return first_answer

    def _open_session(self, session: Session) -> None:
        """An arrivals session opens the app (no web login, no listen token: Subsonic needs neither)."""
        session.first_ts = self.open_app()

    def load_artists(self) -> None:
        """The artist list, loaded once and kept (apps refresh it on demand). Its ``ar-`` cover ids
        are left alone: Funkwhale writes one for every artist, and answers 500 for those without a
        picture (``subsonic/views.py``); albums carry a cover id only when they have a cover."""
        reply = self.rest("getArtists", parse=subsonic.artists)
        if reply.ok:
            self.artists = reply.body

    # -- a session -------------------------------------------------------------------------

    @task
    def listening_session(self) -> None:
        draw = random.random()
        if draw < self.options.search_ratio and self.seen:
            songs = self.search()
        elif draw < self.options.search_ratio + self.options.random_ratio:
            songs = self.shuffle()
        else:
            songs = self.browse()
        if songs:
            start = random.randrange(len(songs))
            for song in songs[start:start + self.options.songs]:
                self.play_song(song)

    def browse(self) -> list[subsonic.Item]:
        if not self.artists:
            self.load_artists()
        if not self.artists:
            return []
        reply = self.rest("getArtist", parse=subsonic.artist_albums, id=random.choice(self.artists).id)
        if not reply.ok:
            return []
        artist, albums = reply.body
        self.covers([artist, *albums])
        if not albums:
            return []
        reply = self.rest("getAlbum", parse=subsonic.album_songs, id=random.choice(albums).id)
        if not reply.ok:
            return []
        album, songs = reply.body
        self.covers([album])
        self._remember([artist, album, *songs])
        return songs

    def search(self) -> list[subsonic.Item]:
        words = subsonic.words(self.seen)
        if not words:
            return []
        reply = self.rest("search3", parse=subsonic.search_songs,
                          **subsonic.search_params(random.choice(words), self.options.random_songs))
        return reply.body if reply.ok else []

    def shuffle(self) -> list[subsonic.Item]:
        reply = self.rest("getRandomSongs", parse=subsonic.random_songs, size=self.options.random_songs)
        if reply.ok:
            self._remember(reply.body)
        return reply.body if reply.ok else []

    def play_song(self, song: subsonic.Item) -> None:
        """"Now playing", the stream, then the scrobble that records the listening."""
        self.rest("scrobble", **subsonic.scrobble_params(song.id, submission=False))
        transcode = self.options.transcode.draw() if self.options.transcode else None
        if self.stream(song, transcode):
            self.rest("scrobble", **subsonic.scrobble_params(song.id, submission=True))

    def _remember(self, items: list[subsonic.Item]) -> None:
        self.seen = (self.seen + items)[-200:]

    # -- calls -------------------------------------------------------------------------------

    def rest(self, method: str, parse: Callable[[Any], Any] = subsonic.ok, **values: str | int) -> Reply:
        """One Subsonic call; a wrong password (code 40) that this process fetched itself is read
        again once: another load process may have made a new one for the same account."""
        refused: list[int] = []

        def parse_noting(body: Any) -> Any:
            try:
                return parse(body)
            except subsonic.SubsonicError as error:
                refused.append(error.code)
                raise

        path = subsonic.path(method)
        query = subsonic.params(self._credentials(), **values)
        reply = self.call("GET", path, name=path, group=GROUP, params=query, parse=parse_noting,
                          authenticated=False)
        if refused == [subsonic.WRONG_CREDENTIALS] and self._password_was_fetched():
            self._fetch_password(self.account, stale=self.password)  # type: ignore[arg-type]
        return reply

    def _credentials(self) -> dict[str, str]:
        assert self.account is not None and self.password is not None
        return subsonic.credentials(self.account.username, self.password.get_secret_value(), self.options.auth)

    def covers(self, items: list[subsonic.Item]) -> None:
        """getCoverArt for the shown albums (and artists) that have a cover (nginx serves the image)."""
        for item in [i for i in items if i.cover_art][: self.options.covers]:
            path, query = subsonic.path("getCoverArt"), subsonic.params(self._credentials(), id=item.cover_art)
            with self.client.request("GET", path, name=path, params=query, catch_response=True,
                                     context=_group_context(GROUP)) as response:
                status = response.status_code or 0
                if status != 200:
                    response.failure(_no_answer(response, status))
                    continue
                error = subsonic.failure_of(response.headers.get("Content-Type"), response.content)
                if error is not None:
                    response.failure(str(error))
                elif not response.content:
                    response.failure("the cover art answer is empty (nginx bypassed?)")
                else:
                    response.success()

    # -- the Subsonic password ---------------------------------------------------------------

    def _password_was_fetched(self) -> bool:
        return self.account is not None and self.account.subsonic_token is None

    def _fetch_password(self, account: Account, stale: SecretStr | None = None) -> bool:
        """The users file's, else this process's copy, else read (GET) or made (POST, when the
        account has none: POST replaces the password every app of the account uses)."""
        if account.subsonic_token is not None:
            self.password = account.subsonic_token
            return True
        settings = self.auth_settings
        with settings.locks.setdefault(f"subsonic:{account.username}", Semaphore()):
            known = settings.subsonic_tokens.get(account.username)
            if known is None or (stale is not None and known == stale.get_secret_value()):
                known = self._subsonic_token(account, "GET") or self._subsonic_token(account, "POST")
                if known is None:
                    return False
                settings.subsonic_tokens[account.username] = known
        self.password = SecretStr(known)
        return True

    def _subsonic_token(self, account: Account, method: str) -> str | None:
        reply = self.call(method, paths.subsonic_token(account.username), name=paths.SUBSONIC_TOKEN_TEMPLATE,
                          group="auth", parse=subsonic.parse_token, basic=account, authenticated=False)
        return reply.body if reply.ok else None

    # -- streaming ---------------------------------------------------------------------------

    def stream(self, song: subsonic.Item, transcode: api.Transcode | None = None) -> bool:
        """Play a song through ``stream.view`` with the player (`fwload.users.player`), in real
        time or at full speed as ``playback`` says: one URL per play, as an app's player keeps it.
        A transcoded stream's size and rate are the answer's, not the file's."""
        fmt, cap = (transcode.to, transcode.max_bitrate) if transcode is not None else (None, None)
        source = AudioSource(
            path=subsonic.path("stream"), name=subsonic.stream_name(fmt, cap), track=song.id,
            params=subsonic.params(self._credentials(), **subsonic.stream_params(song.id, fmt, cap)),
            duration_s=song.duration_s, bitrate_bps=None if transcode else song.bitrate_bps,
            size=None if transcode else song.size, client="subsonic",
            transcode=transcode.label if transcode else "", group=GROUP, explain=subsonic.explain_failure,
        )
        return Player(self, self.options).play(source).ok


def _no_answer(response: Any, status: int) -> str:
    return f"HTTP {status}" if status else str(getattr(response, "error", None) or "no answer")
