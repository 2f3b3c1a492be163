#!/usr/bin/env python3
"""The real, unmodified Azure SDK for Python against `tde-console serve`.

Usage: kv_sdk_e2e.py TDE_CONSOLE_BINARY WORKSPACE.ron

Starts `tde-console serve WORKSPACE.ron --port 0`, reads the vault URLs, the CA certificate
and the console user's token it prints, then, with azure-keyvault-keys:
  1. creates an RSA key, wraps and unwraps a 32-byte key with RSA-OAEP-256 through the
     service (CryptographyClient), rotates, backs up, deletes and recovers (the SDK's
     pollers), lists versions, gets random bytes;
  2. makes that key a server's TDE protector in the shell (commands on serve's standard
     input; its geo-secondary gets the key first, as the documented procedure says) and
     checks the server's databases open through it;
  3. revokes the caller's unwrapKey in the workspace: the SDK raises HttpResponseError 403;
  4. bursts key creations beyond the vault's limit (20 per 10 s): 429s with Retry-After on
     the wire, and the SDK's own retry gets every call through;
  5. reads the vault's audit log in the shell: the SDK's calls are there with the caller;
  6. stops the server with SIGTERM: it saves the workspace.
Prints one line per step; exits non-zero at the first failure.
"""
import datetime
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

VAULT = "kv-contoso-us"
SERVER = "sql-contoso-us"
# Its geo-secondary: it must hold the key before the primary's protector changes.
SECONDARY = "sql-contoso-us2"


class StaticTokenCredential:
    """A TokenCredential that returns the token `tde-console serve` printed."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, int(time.time()) + 3600)


class WireLog:
    """Every HTTP attempt the SDK made (retried ones too): (method, path, status)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []

    def __call__(self, pipeline_response):
        req, resp = pipeline_response.http_request, pipeline_response.http_response
        path = "/" + req.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        with self.lock:
            self.entries.append((req.method, path, resp.status_code))


def check(cond, msg):
    if not cond:
        print(f"[FAIL] {msg}", flush=True)
        sys.exit(1)


class Serve:
    """`tde-console serve` as a child: its JSON lines, and its standard input as a shell."""

    def __init__(self, binary, workspace, ca_dir):
        self.proc = subprocess.Popen(
            [binary, "serve", workspace, "--port", "0", "--clock", "now", "--ca-dir", ca_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.vaults, self.ca, self.token = {}, None, None
        while self.token is None:
            line = self.next_line(30)
            if line is None:
                self.proc.kill()
                check(False, "serve printed no token within 30 s: " + self.proc.stderr.read())
            v = json.loads(line)
            if "vault" in v:
                self.vaults[v["vault"]] = v["url"].rstrip("/")
            self.ca = v.get("ca_cert", self.ca)
            self.token = v.get("token")

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def shell(self, script):
        """Runs az lines on the server's workspace; returns what they printed."""
        marker = f"__done_{uuid.uuid4().hex}__"
        self.proc.stdin.write(script.strip() + f"\necho {marker}\n")
        self.proc.stdin.flush()
        out = []
        while True:
            line = self.next_line(60)
            check(line is not None, f"the shell did not finish: {script}")
            if line == marker:
                return "\n".join(out)
            out.append(line)


def main():
    binary, workspace = sys.argv[1], sys.argv[2]
    ca_dir = os.path.join(os.path.dirname(os.path.abspath(workspace)), "ca")
    serve = Serve(binary, workspace, ca_dir)
    url = serve.vaults[VAULT]
    wire = WireLog()
    cred = StaticTokenCredential(serve.token)
    # The local host is not a subdomain of vault.azure.net: the challenge's resource check
    # is switched off, and the printed CA is trusted. Nothing else about the SDK changes.
    opts = dict(connection_verify=serve.ca, verify_challenge_resource=False, raw_response_hook=wire)
    keys = KeyClient(url, cred, **opts)
    serve.shell(
        f"az monitor diagnostic-settings create --name sdk-audit --resource {VAULT} "
        """--logs '[{"category":"AuditEvent","enabled":true}]' --workspace law -o none"""
    )
    print(f"[ok]   serve: {len(serve.vaults)} vaults, {VAULT} at {url}", flush=True)

    # 1. The key's life through the SDK.
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    key = keys.create_rsa_key(name, size=2048)
    check(key.id.startswith(f"{url}/keys/{name}/"), f"kid {key.id}")
    check(wire.entries[0][2] == 401, f"the first call was not challenged: {wire.entries[:2]}")
    print(f"[ok]   create_rsa_key {key.id} (after the 401 challenge)", flush=True)

    crypto = CryptographyClient(key.id, cred, **opts)
    crypto._initialized = True  # every operation through the service, none locally
    cek = os.urandom(32)
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, cek).encrypted_key
    check(len(wrapped) == 256, "wrapped length")
    check(crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped).key == cek, "round trip")
    check(any(e[1].endswith("/unwrapkey") and e[2] == 200 for e in wire.entries), "unwrap on the wire")
    print("[ok]   wrap_key + unwrap_key RSA-OAEP-256 through the service", flush=True)

    # 1b. Latency: 200 sequential wrapKey calls on one kept-alive connection (issue 24:
    # each used to wait ~44 ms for the client's delayed ACK). The figure is printed; the
    # bound asserted is generous (a loaded CI machine), the 3 ms target is the bench's.
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, cek)
        times.append(time.perf_counter() - t0)
    times.sort()
    median_ms = times[len(times) // 2] * 1000
    p90_ms = times[int(len(times) * 0.9)] * 1000
    print(f"[ok]   200 sequential wrap_key: median {median_ms:.2f} ms, p90 {p90_ms:.2f} ms (target: median <= 3 ms)", flush=True)
    check(median_ms < 30, f"median wrap_key latency {median_ms:.1f} ms: the delayed-ACK stall is back")

    # 1c. serve --clock now: the simulated clock is the wall clock, so a key made "now"
    # says so, and ordinary code using datetime.now() works.
    now = datetime.datetime.now(datetime.timezone.utc)
    created = key.properties.created_on
    check(abs((created - now).total_seconds()) < 120, f"created_on {created} is not now ({now})")
    fresh = keys.create_rsa_key(f"{name}-nbf", size=2048, not_before=now, expires_on=now + datetime.timedelta(days=1))
    fresh_crypto = CryptographyClient(fresh.id, cred, **opts)
    fresh_crypto._initialized = True
    check(fresh_crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, fresh_crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, cek).encrypted_key).key == cek, "a key valid from now wraps now")
    print(f"[ok]   --clock now: created_on {created.isoformat()} is the wall clock; a key with not_before=now() wraps at once", flush=True)

    old = key.properties.version
    rotated = keys.rotate_key(name)
    check(rotated.properties.version != old, "rotate made no new version")
    print(f"[ok]   rotate_key {old} -> {rotated.properties.version}", flush=True)

    blob = keys.backup_key(name)
    check(len(blob) > 100, "backup")
    print(f"[ok]   backup_key {len(blob)} bytes", flush=True)

    poller = keys.begin_delete_key(name, _polling_interval=1)
    poller.wait(timeout=60)
    check(poller.result().recovery_id, "no recoveryId")
    poller = keys.begin_recover_deleted_key(name, _polling_interval=1)
    poller.wait(timeout=60)
    check(keys.get_key(name).properties.version == rotated.properties.version, "recovered")
    print("[ok]   begin_delete_key + begin_recover_deleted_key (pollers waited)", flush=True)

    versions = list(keys.list_properties_of_key_versions(name))
    check(len(versions) == 2, f"{len(versions)} versions")
    check(len(keys.get_random_bytes(32)) == 32, "random bytes")
    print("[ok]   list_properties_of_key_versions: 2; get_random_bytes(32)", flush=True)

    # 2. The SDK's key as a server's TDE protector, in the shell.
    out = serve.shell(
        f"""
KID=$(az keyvault key show --vault-name {VAULT} --name {name} --query key.kid -o tsv)
SECONDARY=$(az sql server show --name {SECONDARY} --query identity.principalId -o tsv)
az keyvault set-policy --name {VAULT} --object-id $SECONDARY --key-permissions get wrapKey unwrapKey -o none
az sql server key create --server {SECONDARY} -g rg-contoso-us --kid $KID -o none
az sql server key create --server {SERVER} -g rg-contoso-us --kid $KID -o none
az sql server tde-key set --server {SERVER} -g rg-contoso-us --server-key-type AzureKeyVault --kid $KID -o none
az sql server tde-key show --server {SERVER} -g rg-contoso-us --query uri -o tsv
az sql db list --server {SERVER} -g rg-contoso-us --query "[].name" -o tsv
"""
    )
    lines = out.split("\n")
    check(lines and f"/keys/{name}/" in lines[0], f"protector: {out}")
    dbs = [l for l in lines[1:] if l]
    check(dbs, f"no databases: {out}")
    read = serve.shell(f"sim read --server {SERVER} --database {dbs[0]} -o json")
    check("ERROR" not in read, f"the database does not open under the SDK's key: {read}")
    print(f"[ok]   {SERVER}'s protector is the SDK's key; {dbs[0]} reads through it", flush=True)

    # 3. Revoke the caller's unwrapKey in the workspace: the SDK gets a 403.
    upn = serve.shell("az account show --query user.name -o tsv").strip()
    serve.shell(
        f"""
az keyvault set-policy --name {VAULT} --upn {upn} --key-permissions get list create delete recover backup restore purge rotate getrotationpolicy setrotationpolicy wrapKey encrypt decrypt sign verify update import -o none
sim clock advance 15m -o none
"""
    )
    try:
        crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped)
        check(False, "unwrap succeeded after the revocation")
    except HttpResponseError as e:
        check(e.status_code == 403, f"status {e.status_code}: {e}")
        print(f"[ok]   after the revocation unwrap_key raises HttpResponseError {e.status_code} ({e.error.code})", flush=True)

    # 4. A burst beyond the vault's create limit: 429 with Retry-After, and the SDK's retry.
    before = len(wire.entries)
    made = [keys.create_rsa_key(f"{name}-burst-{i}", size=2048).name for i in range(26)]
    check(len(made) == 26, "every create returned")
    burst = wire.entries[before:]
    throttled = sum(1 for e in burst if e[2] == 429)
    check(throttled >= 1, f"no 429 in the burst: {burst}")
    print(f"[ok]   26 creates: {throttled} answered 429, every one succeeded on the SDK's retry", flush=True)

    # 5. The audit log holds the SDK's calls with the caller.
    audit = json.loads(serve.shell(f"sim audit list --vault {VAULT} -o json") or "[]")
    sdk = [r for r in audit if "azsdk-python" in json.dumps(r)]
    check(sdk, f"no SDK call in the audit log ({len(audit)} records)")
    ops = {r.get("operationName") for r in sdk}
    check({"KeyCreate", "KeyUnwrap"} <= ops, f"operations {ops}")
    check(any(upn in json.dumps(r) for r in sdk), "the caller is not in the records")
    refused = [r for r in sdk if r.get("operationName") == "KeyUnwrap" and str(r.get("resultSignature")) == "Forbidden"]
    check(refused, "the refused unwrap is not audited as Forbidden")
    print(f"[ok]   audit log: {len(sdk)} SDK calls by {upn}, the refused unwrap among them", flush=True)

    # 6. SIGTERM saves the workspace.
    serve.proc.send_signal(signal.SIGTERM)
    code = serve.proc.wait(timeout=60)
    if code != 0:
        check(False, f"serve exited {code}: " + serve.proc.stderr.read())
    with open(workspace) as f:
        check(name in f.read(), "the saved workspace lacks the SDK's key")
    print("[ok]   SIGTERM: serve saved the workspace and exited 0", flush=True)


if __name__ == "__main__":
    main()
