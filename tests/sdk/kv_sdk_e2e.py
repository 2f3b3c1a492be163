#!/usr/bin/env python3
"""The real, unmodified Azure SDK for Python against `tde-console serve`.

Usage: kv_sdk_e2e.py TDE_CONSOLE_BINARY WORKSPACE.ron

Starts `tde-console serve WORKSPACE.ron --port 0 --clock now --ca-dir DIR` (DIR beside the
workspace), reads the vault URLs, the CA certificate and the console user's token it prints,
then, with azure-keyvault-keys:
  1. creates an RSA key, wraps and unwraps a 32-byte key with RSA-OAEP-256 through the
     service (CryptographyClient), times 200 sequential wrap_key calls (prints the median),
     checks created_on is the wall clock and a key valid from now() wraps at once, rotates,
     backs up, deletes and recovers (the SDK's pollers), lists versions, gets random bytes;
  1b. with azure-keyvault-secrets, sets a secret (two versions), gets the latest and the
     first, lists secrets and versions, disables it (get is refused with 403), backs it up,
     deletes and recovers it (pollers), deletes it again and purges it (refused with 403
     under purge protection), then restores the backup;
  2. makes that key a server's TDE protector in the shell (commands on serve's standard
     input; its geo-secondary gets the key first, as the documented procedure says) and
     checks the server's databases open through it;
  3. revokes the caller's unwrapKey in the workspace: the SDK raises HttpResponseError 403;
  4. bursts key creations beyond the vault's limit (20 per 10 s) from 8 threads: 429s with
     Retry-After on the wire (the message names the same wait), and the SDK's own retry
     gets every call through; then creates a vault on standard input and uses it at the URL
     serve announces: ES256/384/512, PS256/384/512, RSA1_5, an EC JWK import, oct refused,
     release answered NotSupportedBySimulation;
  5. reads the vault's audit log in the shell: the SDK's calls are there with the caller;
  6. stops the server with SIGTERM: it saves the workspace;
  7. starts it again under the same --ca-dir: the same CA file, still trusted.
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
from azure.keyvault.keys import JsonWebKey, KeyClient
from azure.keyvault.keys.crypto import (
    CryptographyClient,
    EncryptionAlgorithm,
    KeyWrapAlgorithm,
    SignatureAlgorithm,
)
from concurrent.futures import ThreadPoolExecutor
import hashlib
from azure.keyvault.secrets import SecretClient

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
    """Every HTTP attempt the SDK made (retried ones too): (method, path, status); and for
    each 429, its Retry-After header and its error message."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []
        self.throttled = []

    def __call__(self, pipeline_response):
        req, resp = pipeline_response.http_request, pipeline_response.http_response
        path = "/" + req.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        with self.lock:
            self.entries.append((req.method, path, resp.status_code))
            if resp.status_code == 429:
                message = json.loads(resp.text())["error"]["message"]
                self.throttled.append((resp.headers.get("Retry-After"), message))


# The server being driven: stopped on a failure, so no `serve` outlives the test.
SERVING = []


def check(cond, msg):
    if not cond:
        print(f"[FAIL] {msg}", flush=True)
        for proc in SERVING:
            if proc.poll() is None:
                proc.kill()
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
        SERVING.append(self.proc)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.vaults, self.ca, self.token = {}, None, None
        self.ca_dir = ca_dir
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

    def announced(self, timeout=30):
        """The next vault `serve` announces (a JSON line {"vault", "url"})."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.next_line(max(0.1, deadline - time.time()))
            if line and line.startswith("{"):
                v = json.loads(line)
                if "vault" in v:
                    self.vaults[v["vault"]] = v["url"].rstrip("/")
                    return v["vault"], v["url"].rstrip("/")
        return None, None

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

    # 1b. Secrets through SecretClient.
    upn = serve.shell("az account show --query user.name -o tsv").strip()
    # The demo's access policy predates secrets: grant the caller what az's creator gets.
    serve.shell(
        f"az keyvault set-policy --name {VAULT} --upn {upn} "
        "--secret-permissions get list set delete recover backup restore -o none"
    )
    secrets = SecretClient(url, cred, **opts)
    sname = f"sdk-secret-{uuid.uuid4().hex[:8]}"
    first = secrets.set_secret(sname, "s3cr3t-v1", content_type="text/plain", tags={"app": "orders"})
    check(first.id.startswith(f"{url}/secrets/{sname}/"), f"secret id {first.id}")
    check(first.value == "s3cr3t-v1", "set_secret's value")
    check(first.properties.content_type == "text/plain", "content type")
    check(first.properties.tags == {"app": "orders"}, f"tags {first.properties.tags}")
    check(first.properties.recovery_level, "recovery level")
    secrets.set_secret(sname, "s3cr3t-v2")
    check(secrets.get_secret(sname).value == "s3cr3t-v2", "latest value")
    check(secrets.get_secret(sname, first.properties.version).value == "s3cr3t-v1", "first version")
    listed = [p for p in secrets.list_properties_of_secrets() if p.name == sname]
    check(len(listed) == 1 and listed[0].content_type is None, f"listed {listed}")
    versions = list(secrets.list_properties_of_secret_versions(sname))
    check(len(versions) == 2, f"{len(versions)} secret versions")
    print(f"[ok]   set_secret x2, get_secret (latest and by version), 2 versions listed", flush=True)
    updated = secrets.update_secret_properties(sname, enabled=False)
    check(updated.enabled is False, "disabled")
    try:
        secrets.get_secret(sname)
        check(False, "a disabled secret was returned")
    except HttpResponseError as e:
        check(e.status_code == 403 and "disabled secret" in str(e), f"{e.status_code}: {e}")
    secrets.update_secret_properties(sname, enabled=True, tags={"app": "orders", "tier": "1"})
    print("[ok]   update_secret_properties: disabled -> get_secret raises 403; enabled again", flush=True)
    blob = secrets.backup_secret(sname)
    check(len(blob) > 100 and b"s3cr3t" not in blob, "secret backup is sealed")
    deleted = secrets.begin_delete_secret(sname, _polling_interval=1).result()
    check(deleted.recovery_id and deleted.scheduled_purge_date, f"deleted secret {deleted}")
    check(sname in [d.name for d in secrets.list_deleted_secrets()], "list_deleted_secrets")
    check(secrets.get_deleted_secret(sname).deleted_date, "get_deleted_secret")
    try:
        secrets.set_secret(sname, "reuse")
        check(False, "a deleted secret's name was reused")
    except HttpResponseError as e:
        check(e.status_code == 409, f"{e.status_code}: {e}")
    secrets.begin_recover_deleted_secret(sname, _polling_interval=1).result()
    check(secrets.get_secret(sname).value == "s3cr3t-v2", "recovered value")
    print("[ok]   backup_secret, begin_delete_secret, list/get deleted, 409 on reuse, begin_recover_deleted_secret", flush=True)
    serve.shell(f"az keyvault set-policy --name {VAULT} --upn {upn} --secret-permissions all -o none")
    secrets.begin_delete_secret(sname, _polling_interval=1).wait()
    protected = serve.shell(f"az keyvault show --name {VAULT} --query properties.enablePurgeProtection -o tsv").strip().lower()
    try:
        secrets.purge_deleted_secret(sname)
        check(protected != "true", "purged under purge protection")
        restored = secrets.restore_secret_backup(blob)
        check(restored.name == sname and secrets.get_secret(sname).value == "s3cr3t-v2", "restored")
        print("[ok]   purge_deleted_secret, then restore_secret_backup brings both versions back", flush=True)
    except HttpResponseError as e:
        check(protected == "true" and e.status_code == 403, f"purge refused: {e.status_code}: {e}")
        # The backup restores into another vault of the same subscription and geography.
        other = "kv-contoso-us2"
        serve.shell(f"az keyvault set-policy --name {other} --upn {upn} --secret-permissions get restore -o none")
        there = SecretClient(serve.vaults[other], cred, **opts)
        restored = there.restore_secret_backup(blob)
        check(restored.name == sname and there.get_secret(sname).value == "s3cr3t-v2", "restored elsewhere")
        print(f"[ok]   purge_deleted_secret refused under purge protection ({e.status_code}); "
              f"restore_secret_backup into {other}", flush=True)

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

    # 4. A burst beyond the vault's create limit (20 per 10 s): 48 creates from 8 threads
    # finish within two windows, so one window must refuse some. 429 with Retry-After, and
    # the SDK's retry gets each through; the body names the wait Retry-After says.
    before = len(wire.entries)
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda i: keys.create_ec_key(f"{name}-burst-{i}").name, range(48)))
    check(len(made) == 48, "every create returned")
    burst = wire.entries[before:]
    throttled = sum(1 for e in burst if e[2] == 429)
    check(throttled >= 1, f"no 429 in the burst: {burst}")
    for retry_after, message in wire.throttled:
        unit = "second" if retry_after == "1" else "seconds"
        check(message.endswith(f"retry after {retry_after} {unit}."), f"Retry-After {retry_after} but: {message}")
    print(f"[ok]   48 concurrent creates: {throttled} answered 429 (Retry-After and message agree), every one succeeded on the SDK's retry", flush=True)

    # 4b. A vault created while serving is served as it appears (announced like the
    # others), and the algorithms applications use work on it through the SDK.
    serve.shell(f"az keyvault create --name kv-sdk-app --resource-group rg-contoso-us --location eastus -o none")
    app_vault, app_url = serve.announced()
    check(app_vault == "kv-sdk-app", f"the new vault was not announced ({app_vault})")
    app = KeyClient(app_url, cred, **opts)
    digest = hashlib.sha256(b"a message an application signs").digest()
    for curve, alg, hash_ in [("P-256", SignatureAlgorithm.es256, hashlib.sha256), ("P-384", SignatureAlgorithm.es384, hashlib.sha384), ("P-521", SignatureAlgorithm.es512, hashlib.sha512)]:
        ec = app.create_ec_key(f"ec-{curve[2:]}", curve=curve)
        c = CryptographyClient(ec.id, cred, **opts)
        c._initialized = True
        d = hash_(b"a message an application signs").digest()
        sig = c.sign(alg, d).signature
        check(c.verify(alg, d, sig).is_valid, f"{alg} does not verify")
        check(not c.verify(alg, hash_(b"another").digest(), sig).is_valid, f"{alg} verifies another digest")
    rsa = app.create_rsa_key("rsa-app", size=2048)
    rc = CryptographyClient(rsa.id, cred, **opts)
    rc._initialized = True
    for alg, hash_ in [(SignatureAlgorithm.ps256, hashlib.sha256), (SignatureAlgorithm.ps384, hashlib.sha384), (SignatureAlgorithm.ps512, hashlib.sha512)]:
        d = hash_(b"a message an application signs").digest()
        check(rc.verify(alg, d, rc.sign(alg, d).signature).is_valid, f"{alg} does not verify")
    secret = os.urandom(32)
    ct = rc.encrypt(EncryptionAlgorithm.rsa1_5, secret).ciphertext
    check(rc.decrypt(EncryptionAlgorithm.rsa1_5, ct).plaintext == secret, "RSA1_5 round trip")
    from cryptography.hazmat.primitives.asymmetric import ec as pyec
    priv = pyec.generate_private_key(pyec.SECP256R1())
    nums = priv.private_numbers()
    b = lambda n: n.to_bytes(32, "big")
    imported = app.import_key("ec-imported", JsonWebKey(kty="EC", crv="P-256", x=b(nums.public_numbers.x), y=b(nums.public_numbers.y), d=b(nums.private_value), key_ops=["sign", "verify"]))
    ic = CryptographyClient(imported.id, cred, **opts)
    ic._initialized = True
    check(ic.verify(SignatureAlgorithm.es256, digest, ic.sign(SignatureAlgorithm.es256, digest).signature).is_valid, "the imported EC key signs")
    try:
        app.import_key("aes", JsonWebKey(kty="oct", k=os.urandom(32)))
        check(False, "a vault took an oct key")
    except HttpResponseError as e:
        check(e.status_code == 400 and "Invalid kty value" in str(e), f"oct: {e.status_code} {e}")
    try:
        app.release_key("rsa-app", "attestation-token")
        check(False, "release answered")
    except HttpResponseError as e:
        check(e.status_code == 501 and e.error.code == "NotSupportedBySimulation", f"release: {e.status_code} {e}")
    print(f"[ok]   kv-sdk-app created while serving is served at {app_url}: ES256/384/512, PS256/384/512, RSA1_5, EC JWK import; oct refused (400), release NotSupportedBySimulation (501)", flush=True)

    # 5. The audit log holds the SDK's calls with the caller.
    audit = json.loads(serve.shell(f"sim audit list --vault {VAULT} -o json") or "[]")
    sdk = [r for r in audit if "azsdk-python" in json.dumps(r)]
    check(sdk, f"no SDK call in the audit log ({len(audit)} records)")
    ops = {r.get("operationName") for r in sdk}
    check({"KeyCreate", "KeyUnwrap", "SecretSet", "SecretGet", "SecretDelete"} <= ops, f"operations {ops}")
    check("s3cr3t" not in json.dumps(audit), "a secret value is in the audit log")
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

    # 7. serve --ca-dir: a second run serves under the same CA, so the file a client was
    # told to trust (NODE_EXTRA_CA_CERTS, connection_verify) still works unchanged.
    with open(serve.ca) as f:
        first_ca = f.read()
    again = Serve(binary, workspace, ca_dir)
    check(again.ca == serve.ca, f"the CA moved: {again.ca}")
    with open(again.ca) as f:
        check(f.read() == first_ca, "a new CA was made")
    check(KeyClient(again.vaults[VAULT], StaticTokenCredential(again.token), connection_verify=serve.ca, verify_challenge_resource=False).get_key(name).name == name, "the kept CA does not verify")
    check("kv-sdk-app" in again.vaults, "the vault created while serving is served after the restart")
    again.proc.send_signal(signal.SIGTERM)
    check(again.proc.wait(timeout=60) == 0, "the second serve did not exit 0")
    print("[ok]   restart with --ca-dir: the same CA file, trusted as before", flush=True)


if __name__ == "__main__":
    main()
