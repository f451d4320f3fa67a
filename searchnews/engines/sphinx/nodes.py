"""Connections to the cluster's nodes (SphinxQL over the MySQL protocol), and its URL.
"""

from __future__ import annotations

import errno
import re
from typing import Sequence
from urllib.parse import urlsplit

from ...errors import SearchnewsError

CONNECT_TIMEOUT = 2.0         # seconds to reach a node
QUERY_TIMEOUT = 5.0           # seconds for an answer: agents give up at 3 s, so no hang
WRITE_TIMEOUT = 60.0          # seconds for a write batch (a RAM chunk may be saved)


# -- connections -----------------------------------------------------------------------------

def _pymysql():
    try:
        import pymysql
        return pymysql
    except ImportError:
        raise SearchnewsError("the sphinx engine needs pymysql: pip install pymysql") from None


def connect(host: str, port: int, timeout: float = CONNECT_TIMEOUT,
            read_timeout: float = QUERY_TIMEOUT, label: str | None = None):
    """A SphinxQL connection (multi-statement, so SHOW META rides with its SELECT)."""
    pymysql = _pymysql()
    from pymysql.constants import CLIENT
    try:
        return pymysql.connect(host=host, port=port, user="", password="", charset="utf8",
                               connect_timeout=timeout, read_timeout=read_timeout,
                               write_timeout=read_timeout, autocommit=True,
                               client_flag=CLIENT.MULTI_STATEMENTS)
    except pymysql.err.MySQLError as exc:
        raise SearchnewsError(f"cannot reach {label or f'sphinx://{host}:{port}'}: "
                              f"{_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    """A pymysql error as a few words: 'connection refused', 'timed out', the server text."""
    args = getattr(exc, "args", ())
    text = str(args[1] if len(args) > 1 else exc).rstrip("\x00").strip()
    low = text.lower()
    if "refused" in low or f"errno {errno.ECONNREFUSED}" in low:
        return "connection refused"
    if "timed out" in low or "timeout" in low:
        return "timed out"
    if "lost connection" in low or "gone away" in low or "reset by peer" in low:
        return "the server closed the connection"
    if "name or service not known" in low or "nodename" in low:
        return "unknown host"
    return text.replace("\n", " ")


class _Node:
    """One searchd, reached lazily; a dropped connection is reopened once per statement."""

    def __init__(self, host: str, port: int, label: str, read_timeout: float):
        self.host, self.port, self.label, self.read_timeout = host, port, label, read_timeout
        self.conn = None

    def run(self, sql: str, args: Sequence | None = None) -> list[tuple]:
        """Every result set of ``sql`` (statements separated by ';'), errors as one line."""
        pymysql = _pymysql()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = connect(self.host, self.port, read_timeout=self.read_timeout,
                                    label=self.label)
            try:
                with self.conn.cursor() as cur:
                    cur.execute(sql, args)
                    out = [cur.fetchall()]
                    while cur.nextset():
                        out.append(cur.fetchall())
                    return out
            except pymysql.err.OperationalError as exc:
                self.close()
                code = exc.args[0] if exc.args else 0
                if attempt == 1 and code in (2006, 2013, 2014):   # gone: reconnect once
                    continue
                raise SearchnewsError(f"lost the connection to {self.label}: "
                                      f"{_reason(exc)}") from None
            except pymysql.err.MySQLError as exc:
                self.close()
                raise SearchnewsError(f"{self.label}: {_reason(exc)}") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self.conn = None


def parse_url(url: str) -> tuple[list[list[tuple[str, int]]], str]:
    """``sphinx://H:P[|H:P],H:P.../NAME`` → (shards, each a list of mirror addresses; NAME)."""
    parts = urlsplit(url)
    name = parts.path.strip("/")
    usage = (f"bad engine URL '{url}' (expected sphinx://HOST:PORT[,HOST:PORT...]/INDEX, "
             f"one SphinxQL address per shard, node 0 first)")
    if not name or not re.fullmatch(r"\w+", name) or not parts.netloc:
        raise SearchnewsError(usage)
    shards = []
    for entry in parts.netloc.split(","):
        mirrors = []
        for addr in entry.split("|"):
            host, _, port = addr.strip().rpartition(":")
            if not host or not port.isdigit():
                raise SearchnewsError(usage)
            mirrors.append((host.strip("[]"), int(port)))
        shards.append(mirrors)
    return shards, name


def _agent_message(where: str, problems: list[str]) -> str:
    """One line naming the agents that failed: results without them would be partial."""
    agents = []
    for p in problems:
        m = re.search(r"agent ([^\s:]+:\d+)[:\s]+(.*)", p.replace("\n", " ").rstrip("\x00"))
        agents.append(f"{m.group(1)} ({m.group(2).strip().rstrip(';')[:120]})" if m else p)
    return (f"{where}: shard agent {', '.join(dict.fromkeys(agents))} did not answer; "
            f"refusing partial results")
