/**
 * Loads the policy pack exactly as the Pulumi engine does (the analyzer plugin runs
 * `@pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` with the pack directory as its
 * working directory) and talks to it over the real gRPC Analyzer protocol. A pack that
 * cannot be `require()`d, or that lacks a version, exits instead of printing its port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreJobSpec } from '../../../infra/preview.js';
import { previewConfig } from './fixtures.js';

const root = resolve(import.meta.dirname, '../../..');
const packDir = resolve(root, 'infra/policy');
const require = createRequire(import.meta.url);
const runPolicyPack = require.resolve('@pulumi/pulumi/cmd/run-policy-pack');

interface Diagnostic {
  policyName: string;
  message: string;
  enforcementLevel: number;
}

/** Starts the pack; resolves with its gRPC port, or rejects with what it printed before exiting. */
function startPack(cwd: string, packArg: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [runPolicyPack, '127.0.0.1:1', packArg, '--typescript=true'], {
    cwd,
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePort, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\s*$/m.exec(out);
      if (line) resolvePort({ child, port: Number(line[1]) });
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`policy pack exited with ${code} before serving:\n${out}${err}`)));
  });
}

function analyze(port: number, type: string, stack: string, props: unknown): Promise<Diagnostic[]> {
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const services = require('@pulumi/pulumi/proto/analyzer_grpc_pb.js');
  const messages = require('@pulumi/pulumi/proto/analyzer_pb.js');
  const { Struct } = require('google-protobuf/google/protobuf/struct_pb.js');
  const client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const request = new messages.AnalyzeRequest();
  request.setType(type);
  request.setUrn(`urn:pulumi:${stack}::syrf-db-tools::${type}::x`);
  request.setName('x');
  request.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props))));
  // The engine always sends the resource options; the pack refuses a request without them.
  const options = new messages.AnalyzerResourceOptions();
  options.setCustomtimeouts(new messages.AnalyzerResourceOptions.CustomTimeouts());
  request.setOptions(options);
  return new Promise((done, fail) => {
    client.analyze(request, (error: Error | null, response: any) => {
      client.close();
      if (error) fail(error);
      else done(response.getDiagnosticsList().map((d: any) => ({ policyName: d.getPolicyname(), message: d.getMessage(), enforcementLevel: d.getEnforcementlevel() })));
    });
  });
}

describe('policy pack under the engine loader', () => {
  const started: ChildProcess[] = [];
  let port = 0;
  beforeAll(async () => {
    const pack = await startPack(packDir, '.');
    started.push(pack.child);
    port = pack.port;
  }, 60_000);
  afterAll(() => {
    for (const child of started) child.kill();
  });

  it('serves from the repository root too, as `run-policy-pack 127.0.0.1:1 infra/policy` is documented', async () => {
    const pack = await startPack(root, 'infra/policy');
    started.push(pack.child);
    expect(pack.port).toBeGreaterThan(0);
  }, 60_000);

  it('reports an injected violation through the real Analyzer RPC', async () => {
    const job = restoreJobSpec(previewConfig(7, { dbSource: 'snapshot' }), 'rules-abc');
    const clean = await analyze(port, 'kubernetes:batch/v1:Job', 'pr-7', job);
    expect(clean).toEqual([]);

    const hostile = JSON.parse(JSON.stringify(job));
    hostile.spec.template.spec.containers[0].env.push({ name: 'K', valueFrom: { secretKeyRef: { name: 'syrf-anonymization-key', key: 'key' } } });
    const found = await analyze(port, 'kubernetes:batch/v1:Job', 'pr-7', hostile);
    expect(found.map((d) => d.policyName)).toContain('no-prod-secret-outside-prod');
    expect(found.find((d) => d.policyName === 'no-prod-secret-outside-prod')?.message).toContain('syrf-anonymization-key');
  }, 60_000);
});
