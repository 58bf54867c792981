"""Dask clusters that only the right people can reach: ``local:N`` on loopback only, ``tls://`` with certificates.

A plain ``tcp://`` scheduler has no authentication: whoever reaches its port runs code on the workers. So the local
cluster must listen on no other interface, a remote one is reached over TLS with this client's certificate (signed
by the cluster's own CA, made here with ``cryptography``), and a plain connection to another machine is warned of.
"""
from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import threading
from pathlib import Path

import dask
import psutil  # a dependency of distributed
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from distributed import LocalCluster
from distributed.security import Security

import cli
import simulate.executors as executors
from simulate.executors import open_executor, plain_tcp_warning

FILES = ("simulation.csv", "criticality.csv", "risks.csv", "distribution.csv")
NO_TLS_CONFIG = {"distributed.comm.tls.ca-file": None, "distributed.comm.tls.client.cert": None,
                 "distributed.comm.tls.client.key": None}


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def scenario_file(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "mini.toml"
    path.write_text(f'name = "mini"\ndata = "{data.as_posix()}"\nstatus_date = "2021-01"\ndeadline = "2025-12"\n\n'
                    "[simulate]\niterations = 1500\nseed = 7\n", encoding="utf-8")
    return path


def same_files(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in FILES)


# -- the sockets of this process and its children ---------------------------------------------------

def listening_sockets() -> set[tuple[int, str, int]]:
    """(pid, address, port) of every listening TCP socket of this process and its child processes."""
    me = psutil.Process()
    found = set()
    for process in [me, *me.children(recursive=True)]:
        try:
            connections = getattr(process, "net_connections", process.connections)(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found |= {(process.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def not_loopback(sockets) -> set:
    return {s for s in sockets if not ipaddress.ip_address(s[1].split("%")[0]).is_loopback}


def test_a_local_cluster_of_the_cli_listens_on_loopback_only(mini_data, tmp_path, monkeypatch):
    before = listening_sockets()
    seen: dict = {}
    run = executors.DaskExecutor.run

    def spying_run(self, *args, **kwargs):  # the cluster is up: look at its sockets
        seen.setdefault("sockets", listening_sockets() - before)
        yield from run(self, *args, **kwargs)

    monkeypatch.setattr(executors.DaskExecutor, "run", spying_run)
    result = invoke("simulate", scenario_file(tmp_path, mini_data), "--out", tmp_path / "out", "--dask", "local:2",
                    "--iterations", 300)
    assert result.exit_code == 0, result.output
    # the scheduler and its HTTP server, two nannies, two workers (and their HTTP servers)
    assert len(seen["sockets"]) >= 6, seen
    assert not not_loopback(seen["sockets"]), f"listening beyond loopback: {not_loopback(seen['sockets'])}"


def test_the_local_clusters_http_server_is_on_loopback():
    # it served the scheduler's logs and worker addresses on 0.0.0.0 (every interface)
    with open_executor("local:1") as executor:
        address = executor.client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.http_server.address)
        workers = list(executor.client.scheduler_info()["workers"])
    assert address == "127.0.0.1"
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)


# -- TLS ---------------------------------------------------------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> bytes:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def make_ca_and_certificate(folder: Path, ca_name: str) -> dict[str, Path]:
    """A CA of its own and one certificate it signed (for the scheduler, the workers and the client alike)."""
    folder.mkdir(parents=True)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_bytes(_certificate(ca_name, ca_key, ca_name, ca_key, ca=True))
    files["cert"].write_bytes(_certificate("portfolio-node", key, ca_name, ca_key, ca=False))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return files


def tls_options(files: dict[str, Path]) -> list:
    return ["--tls-ca-file", files["ca"], "--tls-cert", files["cert"], "--tls-key", files["key"]]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    return {"cluster": make_ca_and_certificate(root / "cluster", "portfolio-cluster-ca"),
            "other": make_ca_and_certificate(root / "other", "someone-elses-ca")}


@pytest.fixture(scope="module")
def tls_cluster(certificates):
    files = certificates["cluster"]
    roles = {f"tls_{role}_{kind}": str(files[kind]) for role in ("scheduler", "worker", "client")
             for kind in ("cert", "key")}
    security = Security(require_encryption=True, tls_ca_file=str(files["ca"]), **roles)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tls://", host="127.0.0.1",
                      security=security, dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                      silence_logs=logging.ERROR) as cluster:
        yield cluster


def test_simulate_over_tls_gives_the_bytes_of_a_local_run(tls_cluster, certificates, mini_data, tmp_path):
    scenario = scenario_file(tmp_path, mini_data)
    address = tls_cluster.scheduler_address
    assert address.startswith("tls://127.0.0.1:")
    on_tls = invoke("simulate", scenario, "--out", tmp_path / "tls", "--dask", address,
                    *tls_options(certificates["cluster"]))
    assert on_tls.exit_code == 0, on_tls.output
    assert "warning" not in on_tls.stderr
    local = invoke("simulate", scenario, "--out", tmp_path / "local")
    assert local.exit_code == 0, local.output
    assert same_files(tmp_path / "tls", tmp_path / "local")
    # the certificates from the Dask config instead of the options (what Security() reads by default)
    files = certificates["cluster"]
    with dask.config.set({"distributed.comm.tls.ca-file": str(files["ca"]),
                          "distributed.comm.tls.client.cert": str(files["cert"]),
                          "distributed.comm.tls.client.key": str(files["key"])}):
        by_config = invoke("simulate", scenario, "--out", tmp_path / "config", "--dask", address)
    assert by_config.exit_code == 0, by_config.output
    assert same_files(tmp_path / "config", tmp_path / "local")


def test_a_tls_cluster_refuses_a_certificate_of_another_ca_and_plain_tcp(tls_cluster, certificates, mini_data,
                                                                         tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 3.0)
    scenario = scenario_file(tmp_path, mini_data)
    address = tls_cluster.scheduler_address
    other = certificates["other"]
    stranger = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", address,
                      "--tls-ca-file", certificates["cluster"]["ca"], "--tls-cert", other["cert"],
                      "--tls-key", other["key"])
    assert stranger.exit_code == 2 and f"cannot reach the Dask scheduler at {address}" in stranger.output
    plain = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", address.replace("tls://", "tcp://"))
    assert plain.exit_code == 2 and "cannot reach the Dask scheduler" in plain.output
    for result in (stranger, plain):
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


# -- bad options: one line, exit 2, nothing written --------------------------------------------------

def test_tls_without_certificates_exits_2_in_one_line(mini_data, tmp_path):
    # it was a TypeError traceback (exit 1) from inside distributed
    scenario = scenario_file(tmp_path, mini_data)
    with dask.config.set(NO_TLS_CONFIG):
        result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "tls://127.0.0.1:8786")
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "needs this client's certificates: --tls-ca-file, --tls-cert and --tls-key" in result.output
    assert not (tmp_path / "x").exists()


def test_bad_tls_options_exit_2(certificates, mini_data, tmp_path):
    scenario = scenario_file(tmp_path, mini_data)
    files = certificates["cluster"]
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n", encoding="utf-8")
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "tls://127.0.0.1:8786",
                    "--tls-ca-file", not_pem, "--tls-cert", files["cert"], "--tls-key", files["key"])
    assert result.exit_code == 2 and "cannot load the TLS certificates" in result.output
    assert result.output.count("\n") == 1
    result = invoke("simulate", scenario, "--out", tmp_path / "x", "--dask", "tcp://127.0.0.1:8786",
                    *tls_options(files))
    assert result.exit_code == 2 and "are for a tls://HOST:PORT scheduler only" in result.output
    result = invoke("run", scenario, "--out", tmp_path / "x", *tls_options(files))
    assert result.exit_code == 2 and "need --dask tls://HOST:PORT" in result.output
    result = invoke("sweep", scenario, "--out", tmp_path / "x", "--dask", "tls://127.0.0.1:8786",
                    "--tls-cert", tmp_path / "missing.pem")
    assert result.exit_code == 2 and "'--tls-cert'" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()


# -- plain tcp:// to another machine ---------------------------------------------------------------------

@pytest.mark.parametrize("address", ["tcp://192.0.2.1:8786", "192.0.2.1:8786", "ws://192.0.2.1:8786"])
def test_plain_tcp_to_another_machine_is_warned_of(address):
    message = plain_tcp_warning(address)
    assert message and "no authentication" in message and "\n" not in message


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "localhost:8786", "tcp://127.0.0.2:8786/",
                                     "tls://192.0.2.1:8786"])
def test_loopback_or_tls_is_not_warned_of(address):
    assert plain_tcp_warning(address) is None


def this_machines_address() -> str:
    """This machine's address on its network, not loopback (a UDP socket's connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
        except OSError:
            pytest.skip("no network interface but loopback")
        address = probe.getsockname()[0]
    if ipaddress.ip_address(address).is_loopback:
        pytest.skip("no network interface but loopback")
    return address


def test_the_cli_prints_the_plain_tcp_warning_on_one_stderr_line(mini_data, tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 0.5)  # Dask tries again until then
    with socket.create_server((this_machines_address(), 0)) as server:  # a port of this machine that is then closed
        address = "tcp://%s:%d" % server.getsockname()[:2]
    result = invoke("simulate", scenario_file(tmp_path, mini_data), "--out", tmp_path / "x", "--dask", address)
    assert result.exit_code == 2
    warning, error = result.stderr.splitlines()
    assert warning.startswith(f"warning: --dask {address}: plain tcp:// has no authentication")
    assert error.startswith(f"dask: cannot reach the Dask scheduler at {address}")


def test_a_service_that_is_not_a_dask_scheduler_exits_2(mini_data, tmp_path):
    # an HTTP answer read as a Dask message was a MemoryError traceback (a proxy answers on any port)
    server = socket.create_server(("127.0.0.1", 0))

    def answer_http() -> None:
        with server:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")

    threading.Thread(target=answer_http, daemon=True).start()
    address = "tcp://127.0.0.1:%d" % server.getsockname()[1]
    try:
        result = invoke("simulate", scenario_file(tmp_path, mini_data), "--out", tmp_path / "x", "--dask", address)
    finally:
        server.close()
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"dask: no Dask scheduler answers at {address}") and result.output.count("\n") == 1
    assert not (tmp_path / "x").exists()
