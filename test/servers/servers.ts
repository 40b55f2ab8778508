/**
 * Starts the real servers the tests and the local demo use: FerretDB (a
 * MongoDB wire-protocol server on SQLite) and fake-gcs-server, both built
 * from the Go module proxy by install.sh and bound to loopback only.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Builds the Go servers if the cache lacks them; returns the bin directory. */
export function ensureServerBinaries(): string {
  const out = execFileSync('bash', [join(here, 'install.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const binDir = out.trim().split('\n').pop() ?? '';
  if (!existsSync(join(binDir, 'ferretdb-test'))) throw new Error(`install.sh did not produce ferretdb-test in ${binDir}`);
  return binDir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startFerretDb(binDir: string): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'syrf-ferretdb-'));
  const port = await freePort();
  const child = spawn(
    join(binDir, 'ferretdb-test'),
    ['--listen-addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--telemetry=disable', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForOutput(child, /^ready /m, 'FerretDB');
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    stop: async () => {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startFakeGcs(binDir: string): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    join(binDir, 'fake-gcs-server'),
    ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-external-url', url, '-log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForHttp(`${url}/storage/v1/b`, child, 'fake-gcs-server');
  return { url, stop: () => stopChild(child) };
}

function waitForOutput(child: ChildProcess, pattern: RegExp, name: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${name} did not become ready in ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(new Error(`${name} exited with ${code} before it was ready:\n${seen}`));
    const fail = (error: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

async function waitForHttp(url: string, child: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  // Drain output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited before it was ready`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
