// Makes a throwaway certificate authority and server certificates with Debian's `openssl`, for
// the TLS tests: one CA that the tests trust, a server certificate it signed for 127.0.0.1 and
// localhost, one it signed for another host name (a wrong-host test), and a second CA that
// nobody trusts (an unknown-CA test). Uses only node: APIs, so it runs on Deno, Bun and Node.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A key and the certificate for it, as files and as PEM text. */
export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key, PEM. */
  readonly key: string;
}

/** What {@linkcode makeCertificates} made; `remove()` deletes the folder. */
export interface TestCertificates {
  /** The folder holding every file. */
  readonly dir: string;
  /** The CA the tests trust: its certificate file and PEM text. */
  readonly caFile: string;
  readonly ca: string;
  /** Signed by the CA for `IP:127.0.0.1` and `DNS:localhost`. */
  readonly server: KeyPair;
  /** Signed by the CA for `DNS:wrong-host.invalid` only: a client of 127.0.0.1 must refuse it. */
  readonly wrongHost: KeyPair;
  /** Signed by the CA for `DNS:localhost` only: a client of the IP 127.0.0.1 must refuse it. */
  readonly localhostOnly: KeyPair;
  /** A second CA that nobody trusts, and a server certificate it signed for 127.0.0.1. */
  readonly otherCaFile: string;
  readonly otherCa: string;
  readonly untrusted: KeyPair;
  /** Deletes the folder. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  } catch (error) {
    const stderr = (error as { stderr?: Uint8Array }).stderr;
    throw new Error(
      `openssl ${args[0]} failed (the TLS tests need Debian's openssl): ${
        stderr ? new TextDecoder().decode(stderr) : String(error)
      }`,
      { cause: error },
    );
  }
}

// An EC P-256 key: small, fast, and accepted by nats-server, PostgreSQL and every runtime.
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "3",
    "-subj",
    `/CN=eventsourced test ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

function makeServer(dir: string, name: string, ca: string, altNames: string): KeyPair {
  openssl(dir, [
    "req",
    ...EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${altNames}`,
      "",
    ].join("\n"),
  );
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
  };
}

/** Makes a CA, the certificates it signs and an untrusted CA in a new temporary folder. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "eventsourced-tls-"));
  try {
    makeCa(dir, "ca");
    makeCa(dir, "other-ca");
    const server = makeServer(dir, "server", "ca", "IP:127.0.0.1,DNS:localhost");
    const wrongHost = makeServer(dir, "wrong-host", "ca", "DNS:wrong-host.invalid");
    const localhostOnly = makeServer(dir, "localhost-only", "ca", "DNS:localhost");
    const untrusted = makeServer(dir, "untrusted", "other-ca", "IP:127.0.0.1,DNS:localhost");
    const caFile = join(dir, "ca.pem");
    const otherCaFile = join(dir, "other-ca.pem");
    return {
      dir,
      caFile,
      ca: readFileSync(caFile, "utf8"),
      server,
      wrongHost,
      localhostOnly,
      otherCaFile,
      otherCa: readFileSync(otherCaFile, "utf8"),
      untrusted,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
