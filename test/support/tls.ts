import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for `localhost` and `127.0.0.1`, and where its files are. */
export interface SelfSignedCertificate {
  key: Buffer;
  cert: Buffer;
  keyFile: string;
  certFile: string;
  /** Removes the files. */
  remove(): void;
}

/**
 * Makes a self-signed certificate with the machine's `openssl` (Debian's
 * package; `.ci/run` installs it) in a temporary folder: for TLS servers
 * under test (Fastify with `http2: true`, a TLS proxy), trusted by clients
 * with `rejectUnauthorized: false` or Chromium's `--ignore-certificate-errors`.
 */
export function selfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'sse-hub-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    keyFile,
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
