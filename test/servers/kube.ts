/**
 * A real Kubernetes API server on loopback for the infra tests: etcd (Debian's
 * etcd-server) plus kube-apiserver built from the Go module proxy by install.sh.
 * No kubelet, no controllers: objects are validated and admitted (schema, strict
 * field validation, Pod Security, CRD schemas) exactly as a cluster would, and
 * tests use server-side dry-run so nothing runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './servers.js';

export interface KubeResponse {
  status: number;
  body: any;
}

export interface KubeApi {
  url: string;
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
  stop(): Promise<void>;
}

export function kubeBinaries(binDir: string): { apiserver: string; etcd: string; atlasCrds: string } {
  return { apiserver: join(binDir, 'kube-apiserver'), etcd: '/usr/bin/etcd', atlasCrds: join(binDir, 'atlas-crds') };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

export async function startKubeApiServer(binDir: string): Promise<KubeApi> {
  const { apiserver, etcd } = kubeBinaries(binDir);
  for (const binary of [apiserver, etcd]) if (!existsSync(binary)) throw new Error(`${binary} is missing: run test/servers/install.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'syrf-kube-'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etcdChild = spawn(etcd, [
      '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
      '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(etcdChild);

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);
    const api = spawn(apiserver, [
      '--etcd-servers', `http://127.0.0.1:${etcdPort}`,
      '--bind-address', '127.0.0.1',
      '--advertise-address', '127.0.0.1',
      '--secure-port', String(apiPort),
      '--cert-dir', join(dir, 'certs'),
      '--token-auth-file', join(dir, 'tokens.csv'),
      '--authorization-mode', 'RBAC',
      '--service-account-issuer', 'https://kubernetes.default.svc',
      '--service-account-key-file', join(dir, 'sa.pub'),
      '--service-account-signing-key-file', join(dir, 'sa.key'),
      '--service-cluster-ip-range', '10.96.0.0/24',
      '--enable-priority-and-fairness=false',
      '--v', '0',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(api);
    let apiLog = '';
    api.stderr!.on('data', (chunk: Buffer) => (apiLog = (apiLog + chunk.toString()).slice(-4000)));

    const url = `https://127.0.0.1:${apiPort}`;
    const call = (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        // Loopback only, against a throwaway self-signed certificate the server made itself.
        const req = request(`${url}${path}`, {
          method,
          rejectUnauthorized: false,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': contentType } : {}) },
        }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            let parsed: unknown = text;
            try { parsed = JSON.parse(text); } catch { /* plain text, e.g. /readyz */ }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.on('error', reject);
        req.end(payload);
      });

    const deadline = Date.now() + 120_000;
    for (;;) {
      if (api.exitCode !== null || etcdChild.exitCode !== null) throw new Error(`kube-apiserver or etcd exited:\n${apiLog}`);
      const ready = await call('GET', '/readyz').catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after 120 s:\n${apiLog}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return { url, call, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
