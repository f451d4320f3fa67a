"""Configs and processes for a searchnews cluster of Sphinx 2.2 ``searchd`` nodes.

``searchnews sphinx config --nodes 2 --dir DIR`` writes one ``searchd.conf`` per node and
``DIR/cluster.json`` (the ports and the engine URL); ``start``/``stop`` run those nodes. What the
layout has to respect (measured in the prototype, see docs/sphinx.md):

* node *k* holds shard *k*, an RT index ``<name>_shard``; node 0 also holds the distributed
  index ``<name>`` (its local shard plus the other shards as agents) and ``<name>_files``,
  the indexing manifest. With ``--mirror``, each remote shard has a second node, and node 0
  lists both as ``agent = A|B:<name>_shard``;
* agents speak the binary API, not mysql41: every node listens on a SphinxQL port (clients)
  and an API port (agents). With M nodes and base port P: SphinxQL on P..P+M-1, API on
  P+M..P+2M-1;
* no Sphinx analysis: searchnews sends already analysed terms (``[a-z0-9_]`` tokens), so
  ``charset_table`` is ASCII and there is no morphology or stopword list;
* ``searchd`` exits 0 even when it serves nothing: start waits for the pid file, a
  ``SHOW STATUS`` answer and a log without ``FATAL``/``NOT SERVING``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from ...errors import SearchnewsError

CLUSTER_FILE = "cluster.json"
DEFAULT_NAME = "noticias"
DEFAULT_PORT = 9306
SEARCHD = "searchd"
START_TIMEOUT = 15.0          # seconds for one node to serve
STOP_TIMEOUT = 15.0           # seconds for a clean stop before SIGKILL
AGENT_CONNECT_TIMEOUT_MS = 500
AGENT_QUERY_TIMEOUT_MS = 3000

# The RT shard's schema. Fields hold analysed terms; attributes hold what a hit shows.
FIELDS = ("title", "text", "words", "source")
ATTRIBUTES = (
    ("rt_attr_bigint", "article_key"),     # 63-bit hash of article_id: IN (...) filters
    ("rt_attr_string", "article_id"),
    ("rt_attr_uint", "paragraph"),         # from 0
    ("rt_attr_uint", "n_paragraphs"),
    ("rt_attr_uint", "date"),              # days since 1970-01-01; 0 = undated
    ("rt_attr_string", "date_iso"),
    ("rt_attr_string", "title_raw"),
    ("rt_attr_uint", "title_derived"),     # 1: the title is the text's first sentence
    ("rt_attr_string", "text_raw"),
    ("rt_attr_string", "source_name"),
    ("rt_attr_string", "source_id"),       # folded outlet name, as the Whoosh `source` field
    ("rt_attr_string", "url"),
)
FILES_ATTRIBUTES = (
    ("rt_attr_bigint", "path_key"),
    ("rt_attr_uint", "part"),
    ("rt_attr_string", "path"),
    ("rt_attr_string", "sha"),
    ("rt_attr_string", "articles"),        # JSON {article_id: content hash}, one chunk
    ("rt_attr_timestamp", "updated"),
)


@dataclass
class Node:
    """One searchd process: which shard it serves and where it listens."""

    node: int
    shard: int
    mirror: bool
    host: str
    sql_port: int
    api_port: int
    dir: str

    @property
    def conf(self) -> Path:
        return Path(self.dir) / "searchd.conf"

    @property
    def pid_file(self) -> Path:
        return Path(self.dir) / "searchd.pid"

    @property
    def log(self) -> Path:
        return Path(self.dir) / "searchd.log"


@dataclass
class Cluster:
    """What ``config`` wrote: the nodes, the index name and the engine URL."""

    name: str
    nodes: list[Node]

    @property
    def url(self) -> str:
        """``sphinx://NODE0,SHARD1[|MIRROR1],.../NAME``: the first address is the node with
        the distributed index (queries); each comma-separated entry is a shard (writes)."""
        shards: dict[int, list[str]] = {}
        for n in self.nodes:
            shards.setdefault(n.shard, []).append(f"{n.host}:{n.sql_port}")
        return "sphinx://" + ",".join("|".join(shards[s]) for s in sorted(shards)) + \
            f"/{self.name}"

    def save(self, directory: Path) -> None:
        (directory / CLUSTER_FILE).write_text(json.dumps(
            {"name": self.name, "url": self.url, "nodes": [asdict(n) for n in self.nodes]},
            indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "Cluster":
        path = Path(directory) / CLUSTER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["name"], [Node(**n) for n in data["nodes"]])
        except FileNotFoundError:
            raise SearchnewsError(f"{path}: no cluster here: write one with "
                                  f"'searchnews sphinx config --dir {directory}'") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise SearchnewsError(f"{path}: not a searchnews cluster file ({exc})") from None


# -- configs --------------------------------------------------------------------------------

def free_port_block(count: int, host: str = "127.0.0.1") -> int:
    """A base port P such that P..P+count-1 are free now (checked by binding each)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((host, 0))
            base = s.getsockname()[1]
        if base + count >= 65000:
            continue
        if all(_port_free(host, p) for p in range(base, base + count)):
            return base
    raise SearchnewsError(f"no block of {count} free ports found on {host}")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def plan(directory: Path, nodes: int, port: int, name: str, host: str = "127.0.0.1",
         mirror: bool = False) -> Cluster:
    """Node k serves shard k; with ``mirror``, node nodes+k-1 serves shard k again (k ≥ 1)."""
    if nodes < 1:
        raise SearchnewsError("--nodes must be at least 1")
    shards = list(range(nodes)) + (list(range(1, nodes)) if mirror else [])
    total = len(shards)
    if port == 0:
        port = free_port_block(2 * total, host)
    return Cluster(name, [Node(k, s, k >= nodes, host, port + k, port + total + k,
                               str(directory.resolve() / f"node{k}"))
                          for k, s in enumerate(shards)])


def shard_section(name: str, data_dir: str) -> str:
    lines = [f"index {name}_shard", "{", "\ttype = rt", f"\tpath = {data_dir}/{name}_shard",
             "\trt_mem_limit = 256M"]
    lines += [f"\trt_field = {f}" for f in FIELDS]
    lines += [f"\t{kind} = {attr}" for kind, attr in ATTRIBUTES]
    lines += [
        "\tdict = keywords",
        "\tmin_prefix_len = 1             # word* on the `words` field (unstemmed words)",
        "\tmin_word_len = 1",
        "\tcharset_table = 0..9, A..Z->a..z, _, a..z   # searchnews sends analysed terms",
        "\tindex_field_lengths = 1        # <field>_len attributes: BM25 totals",
        "\thtml_strip = 0",
        "}",
    ]
    return "\n".join(lines) + "\n"


def files_section(name: str, data_dir: str) -> str:
    lines = [f"index {name}_files", "{", "\ttype = rt", f"\tpath = {data_dir}/{name}_files",
             "\trt_mem_limit = 64M", "\trt_field = name"]
    lines += [f"\t{kind} = {attr}" for kind, attr in FILES_ATTRIBUTES]
    return "\n".join(lines + ["}"]) + "\n"


def distributed_section(cluster: Cluster, connect_ms: int, query_ms: int) -> str:
    by_shard: dict[int, list[Node]] = {}
    for n in cluster.nodes:
        if n.shard:
            by_shard.setdefault(n.shard, []).append(n)
    lines = [f"index {cluster.name}", "{", "\ttype = distributed",
             f"\tlocal = {cluster.name}_shard"]
    lines += ["\tagent = " + "|".join(f"{n.host}:{n.api_port}" for n in nodes)
              + f":{cluster.name}_shard" for _, nodes in sorted(by_shard.items())]
    lines += [f"\tagent_connect_timeout = {connect_ms}", f"\tagent_query_timeout = {query_ms}"]
    if any(len(v) > 1 for v in by_shard.values()):
        lines.append("\tha_strategy = nodeads")
    return "\n".join(lines + ["}"]) + "\n"


def searchd_section(node: Node) -> str:
    d = node.dir
    return f"""searchd
{{
\tlisten = {node.host}:{node.sql_port}:mysql41
\tlisten = {node.host}:{node.api_port}        # binary API: what agents speak
\tlog = {d}/searchd.log
\tquery_log = {d}/query.log
\tpid_file = {d}/searchd.pid
\tbinlog_path = {d}/binlog
\tworkers = threads
\tdist_threads = 2
\tread_timeout = 5
\tclient_timeout = 300
\tmax_children = 64
\tmax_packet_size = 32M
\tha_ping_interval = 1000
\tha_period_karma = 60
\tcollation_server = utf8_general_ci
\tmysql_version_string = 5.5.21-sphinx
}}
"""


def write_configs(directory: str | os.PathLike, nodes: int = 2, port: int = DEFAULT_PORT,
                  name: str = DEFAULT_NAME, host: str = "127.0.0.1", mirror: bool = False,
                  connect_ms: int = AGENT_CONNECT_TIMEOUT_MS,
                  query_ms: int = AGENT_QUERY_TIMEOUT_MS) -> Cluster:
    """Write every node's ``searchd.conf`` and ``cluster.json`` under ``directory``
    (``port=0``: pick free ports). Returns the cluster; its ``url`` is the engine URL."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise SearchnewsError(f"index name '{name}': use letters, digits and _ only")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / CLUSTER_FILE).exists() and any(_alive(_read_pid(n))
                                                   for n in Cluster.load(directory).nodes):
        raise SearchnewsError(f"{directory}: its cluster is running; stop it first")
    cluster = plan(directory, nodes, port, name, host, mirror)
    for node in cluster.nodes:
        data = Path(node.dir) / "data"
        for sub in (data, Path(node.dir) / "binlog"):
            sub.mkdir(parents=True, exist_ok=True)
        parts = [f"# searchnews node {node.node}: shard {node.shard}"
                 f"{' (mirror)' if node.mirror else ''} of '{name}' -- generated by "
                 f"'searchnews sphinx config'; Sphinx 2.2.11\n",
                 shard_section(name, str(data))]
        if node.node == 0:
            parts += [files_section(name, str(data)),
                      distributed_section(cluster, connect_ms, query_ms)]
        parts.append(searchd_section(node))
        node.conf.write_text("\n".join(parts), encoding="utf-8")
    cluster.save(directory)
    return cluster


# -- processes ------------------------------------------------------------------------------

def _read_pid(node: Node) -> int | None:
    try:
        return int(node.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    """A live process (a zombie left by searchd's daemonizing is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(") ", 1)[1][:1] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:
        return True
    except OSError:
        return True       # no /proc: kill(0) said it exists


def node_pid(node: Node) -> int | None:
    """The pid of a running node's main process (from its pid file), else None. A stale pid
    file whose number now belongs to another program does not count: stop never signals it."""
    pid = _read_pid(node)
    if not _alive(pid):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"searchd" not in fh.read():
                return None
    except OSError:
        pass                      # no /proc: trust the pid file
    return pid


def _log_problems(node: Node, offset: int) -> str | None:
    try:
        with open(node.log, encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            text = fh.read()
    except OSError:
        return None
    bad = [ln.strip() for ln in text.splitlines() if "FATAL" in ln or "NOT SERVING" in ln]
    return "; ".join(bad) or None


def _serving(node: Node) -> bool:
    from .nodes import connect
    try:
        conn = connect(node.host, node.sql_port, timeout=1.0)
    except SearchnewsError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW STATUS")
            return any(row[0] == "uptime" for row in cur.fetchall())
    except Exception:  # noqa: BLE001 - not answering yet
        return False
    finally:
        conn.close()


def start_node(node: Node, timeout: float = START_TIMEOUT) -> int:
    """Start one node and wait until it answers SHOW STATUS; returns its pid."""
    searchd = shutil.which(SEARCHD)
    if not searchd:
        raise SearchnewsError("searchd not found: install Sphinx 2.2 (apt-get install "
                              "sphinxsearch) or Manticore")
    if node_pid(node):
        return node_pid(node)
    offset = node.log.stat().st_size if node.log.exists() else 0
    try:
        p = subprocess.run([searchd, "--config", str(node.conf)], capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchnewsError(f"node {node.node}: cannot run searchd: {exc}") from None
    out = (p.stdout + p.stderr)
    fatal = [ln.strip() for ln in out.splitlines() if "FATAL" in ln or "NOT SERVING" in ln]
    if p.returncode != 0 or fatal:
        raise SearchnewsError(f"node {node.node} ({node.conf}): searchd failed: "
                              f"{'; '.join(fatal) or out.strip()[-300:]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        problem = _log_problems(node, offset)
        if problem:
            raise SearchnewsError(f"node {node.node} ({node.log}): {problem}")
        pid = node_pid(node)
        if pid and _serving(node):
            return pid
        time.sleep(0.05)
    raise SearchnewsError(f"node {node.node}: not serving on {node.host}:{node.sql_port} "
                          f"after {timeout:g}s (see {node.log})")


def stop_node(node: Node, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM the node's pid (a clean stop saves its RAM chunk), SIGKILL after ``timeout``.
    Only the pid in the node's own pid file is signalled. False if it was not running."""
    pid = node_pid(node)
    if not pid:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def start_cluster(directory: str | os.PathLike) -> Cluster:
    """Start every node (agents first, node 0 last), or none: a failure stops the others."""
    cluster = Cluster.load(directory)
    try:
        for node in reversed(cluster.nodes):
            start_node(node)
    except BaseException:
        stop_cluster(directory)
        raise
    return cluster


def stop_cluster(directory: str | os.PathLike) -> list[int]:
    """Stop every node of the cluster; returns the numbers of those that were running."""
    return [n.node for n in Cluster.load(directory).nodes if stop_node(n)]


# -- the command ----------------------------------------------------------------------------

@click.group("sphinx")
def sphinx_cmd() -> None:
    """Run a Sphinx cluster for --engine sphinx://... (config, start, stop, status)."""


dir_option = click.option("--dir", "directory", required=True,
                          type=click.Path(file_okay=False, path_type=Path),
                          help="The cluster's folder (configs, data, logs, pid files).")


@sphinx_cmd.command("config")
@dir_option
@click.option("--nodes", type=click.IntRange(min=1), default=2, show_default=True,
              help="Shards, one node each.")
@click.option("--port", type=click.IntRange(min=0, max=65000), default=DEFAULT_PORT,
              show_default=True, help="First SphinxQL port (0: any free ports).")
@click.option("--name", default=DEFAULT_NAME, show_default=True, help="Index name.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--mirror", is_flag=True,
              help="A second node for every shard but node 0's (agent = A|B mirrors).")
def config_cmd(directory: Path, nodes: int, port: int, name: str, host: str,
               mirror: bool) -> None:
    """Write searchd configs for a cluster and print its engine URL."""
    cluster = write_configs(directory, nodes, port, name, host, mirror)
    for n in cluster.nodes:
        click.echo(f"node {n.node}: shard {n.shard}{' mirror' if n.mirror else ''}, "
                   f"sphinxql {n.host}:{n.sql_port}, api {n.api_port}, {n.conf}", err=True)
    click.echo(cluster.url)


@sphinx_cmd.command("start")
@dir_option
def start_cmd(directory: Path) -> None:
    """Start the cluster's nodes; return once every one is serving. Prints the URL."""
    started = time.monotonic()
    cluster = start_cluster(directory)
    pids = [node_pid(n) for n in cluster.nodes]
    click.echo(f"{len(pids)} nodes serving in {time.monotonic() - started:.1f}s "
               f"(pids {', '.join(map(str, pids))})", err=True)
    click.echo(cluster.url)


@sphinx_cmd.command("stop")
@dir_option
def stop_cmd(directory: Path) -> None:
    """Stop the cluster's nodes (by the pids in their pid files)."""
    stopped = stop_cluster(directory)
    click.echo(f"stopped {len(stopped)} node(s)", err=True)


@sphinx_cmd.command("status")
@dir_option
def status_cmd(directory: Path) -> None:
    """Each node's pid and whether it answers; exit 1 if any is down."""
    cluster = Cluster.load(directory)
    down = 0
    for n in cluster.nodes:
        pid = node_pid(n)
        ok = bool(pid) and _serving(n)
        down += not ok
        click.echo(f"node {n.node} shard {n.shard}{' mirror' if n.mirror else ''} "
                   f"{n.host}:{n.sql_port} pid {pid or '-'} {'serving' if ok else 'DOWN'}")
    click.echo(cluster.url)
    raise SystemExit(1 if down else 0)


if __name__ == "__main__":
    sphinx_cmd(prog_name="python -m searchnews.engines.sphinx.conf")
