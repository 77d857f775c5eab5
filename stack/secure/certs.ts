/**
 * The secure stack's certificates, made with openssl: a CA of its own and one server
 * certificate for 127.0.0.1 / localhost that etcd, Kafka and OpenSearch all present (OpenSearch
 * also uses it between nodes, hence clientAuth too). Kafka reads a PKCS#12 key store made from
 * the same key. Everything is made once and kept under `.stack/secure/certs/`.
 * @module
 */
import { SluiceError } from "../../core/errors.ts";
import { ensureOpenssl, run } from "../prerequisites.ts";
import type { Progress } from "../prerequisites.ts";

/** The files a secure service and its clients use. */
export interface CertificatePaths {
  dir: string;
  /** The CA certificate clients trust (PEM). */
  ca: string;
  caKey: string;
  /** The server certificate (PEM), subject `CN=localhost,O=sluice`. */
  cert: string;
  /** Its key (PKCS#8 PEM, unencrypted: the file is readable by its owner only). */
  key: string;
  /** cert + key as PKCS#12, for Kafka; its password is in `keystorePassword`. */
  keystore: string;
  keystorePassword: string;
}

/** The subject of the server certificate; OpenSearch's `nodes_dn` names it. */
export const SERVER_DN = "CN=localhost,O=sluice";

/** The paths under `dir` (pure). */
export function certificatePaths(dir: string): CertificatePaths {
  return {
    dir,
    ca: `${dir}/ca.pem`,
    caKey: `${dir}/ca.key`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
    keystore: `${dir}/server.p12`,
    keystorePassword: `${dir}/server.p12.password`,
  };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

async function openssl(args: string[], what: string): Promise<void> {
  const result = await run("openssl", args);
  if (!result.ok) {
    throw new SluiceError(
      `openssl could not ${what}:\n${result.output.trim()}\n` +
        "Fix: check that openssl 1.1.1 or newer is installed, remove .stack/secure/certs and " +
        "start the secure stack again.",
    );
  }
}

/** A random password of 24 URL-safe characters. */
export function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * A CA in `dir` (ca.pem, ca.key), made unless it is there. Tests make a second, unrelated CA
 * this way to check that a client refuses a server it does not trust.
 *
 * @example
 * ```ts ignore
 * import { ensureCa } from "./certs.ts";
 * await ensureCa("/tmp/other-ca", "someone else's CA"); // writes /tmp/other-ca/ca.pem
 * ```
 */
export async function ensureCa(dir: string, name = "sluice local stack CA"): Promise<void> {
  const paths = certificatePaths(dir);
  if (await exists(paths.ca) && await exists(paths.caKey)) return;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    paths.caKey,
    "-out",
    paths.ca,
    "-days",
    "3650",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], "make the CA");
  await Deno.chmod(paths.caKey, 0o600);
}

/**
 * The CA, the server certificate and Kafka's key store in `dir`, each made when missing.
 * Returns their paths.
 */
export async function ensureCertificates(
  dir: string,
  progress: Progress,
): Promise<CertificatePaths> {
  const paths = certificatePaths(dir);
  if (
    await exists(paths.ca) && await exists(paths.cert) && await exists(paths.key) &&
    await exists(paths.keystore) && await exists(paths.keystorePassword)
  ) return paths;
  await ensureOpenssl(progress);
  progress(`secure stack: making a CA and a server certificate in ${dir}`);
  await ensureCa(dir);
  await openssl(
    ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", paths.key],
    "make the server key",
  );
  await Deno.chmod(paths.key, 0o600);
  const csr = `${dir}/server.csr`;
  const extensions = `${dir}/server.ext`;
  await openssl(
    ["req", "-new", "-key", paths.key, "-out", csr, "-subj", "/CN=localhost/O=sluice"],
    "make the certificate request",
  );
  await Deno.writeTextFile(
    extensions,
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "",
    ].join("\n"),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    paths.ca,
    "-CAkey",
    paths.caKey,
    "-CAcreateserial",
    "-out",
    paths.cert,
    "-days",
    "825",
    "-extfile",
    extensions,
  ], "sign the server certificate");
  const password = randomPassword();
  await Deno.writeTextFile(paths.keystorePassword, password + "\n", { mode: 0o600 });
  await openssl([
    "pkcs12",
    "-export",
    "-in",
    paths.cert,
    "-inkey",
    paths.key,
    "-certfile",
    paths.ca,
    "-name",
    "server",
    "-out",
    paths.keystore,
    "-passout",
    `file:${paths.keystorePassword}`,
  ], "write the PKCS#12 key store");
  await Deno.chmod(paths.keystore, 0o600);
  await Deno.remove(csr).catch(() => {});
  return paths;
}
