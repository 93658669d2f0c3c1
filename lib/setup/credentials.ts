import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile, copyFile, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Validity of the certificates we make, as xCAT's setup scripts (20 years); keys are P-256, cheap to handshake. */
const DAYS = '7300'

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', [...args])
}

/** `<confdir>/ca`: the cluster CA (ca-key.pem, ca-cert.pem), made once; existing ones are kept. */
export async function ensureCa(confdir: string): Promise<{ key: string; cert: string }> {
  const dir = join(confdir, 'ca')
  const key = join(dir, 'ca-key.pem')
  const cert = join(dir, 'ca-cert.pem')
  if (await exists(cert)) return { key, cert }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', DAYS, '-subj', '/CN=xCAT CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  await chmod(key, 0o600)
  return { key, cert }
}

/** Issues a key and a certificate with subject CN `cn` from the CA; returns key, cert and their concatenation. */
async function issue(ca: { key: string; cert: string }, cn: string): Promise<{ key: string; cert: string }> {
  const work = await mkdtemp(join(tmpdir(), 'xcat-cred-'))
  try {
    const key = join(work, 'key.pem')
    const csr = join(work, 'req.csr')
    const cert = join(work, 'cert.pem')
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`])
    await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-CAserial', join(work, 'ca.srl'), '-out', cert, '-days', DAYS])
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Writes `<prefix>-key.pem`, `<prefix>-cert.pem`, `<prefix>-cred.pem` (both) and a copy of the CA as `ca.pem`. */
async function writeCredentials(dir: string, prefix: string, issued: { key: string; cert: string }, caCert: string): Promise<void> {
  await writeFile(join(dir, `${prefix}-key.pem`), issued.key, { mode: 0o600 })
  await writeFile(join(dir, `${prefix}-cert.pem`), issued.cert)
  await writeFile(join(dir, `${prefix}-cred.pem`), issued.key + issued.cert, { mode: 0o600 })
  await copyFile(caCert, join(dir, 'ca.pem'))
}

/** `<confdir>/cert`: server-key.pem, server-cert.pem, server-cred.pem (both) and ca.pem, subject CN = `cn`. */
export async function createServerCredentials(confdir: string, cn: string): Promise<void> {
  const ca = await ensureCa(confdir)
  const dir = join(confdir, 'cert')
  await mkdir(dir, { recursive: true, mode: 0o755 })
  await writeCredentials(dir, 'server', await issue(ca, cn), ca.cert)
}

/** `<home>/.xcat`: client-key.pem, client-cert.pem, client-cred.pem and ca.pem for user `user`, as xCAT's setup-local-client.sh. */
export async function createClientCredentials(confdir: string, home: string, user: string): Promise<void> {
  const ca = await ensureCa(confdir)
  const dir = join(home, '.xcat')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeCredentials(dir, 'client', await issue(ca, user), ca.cert)
}

/** The subject CN of a PEM certificate file, or undefined when the file is missing. */
export async function certificateCn(file: string): Promise<string | undefined> {
  if (!(await exists(file))) return undefined
  const { stdout } = await run('openssl', ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'multiline'])
  return /commonName\s*=\s*(.+)/.exec(stdout)?.[1]?.trim()
}
