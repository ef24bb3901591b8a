/**
 * A failure's reason names the side that gave it: `ECONNREFUSED` alone does not say whether the
 * source or the destination refused. The same reason reaches the log, the state file and `report`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/s3-proxy.js';
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js';
import { destinationBucket, jobSummary, s3Section, sourceBucket } from '../helpers/test-instance.js';
import { createDurableInstance, perObjectRequests, type DurableInstance } from './durable-instance.js';

interface Failure {
  key: string;
  outcome: string;
  reason: string;
}

describe('failure reasons name the source or the destination', () => {
  let instance: DurableInstance;
  let keys: string[];
  const gates: TcpGate[] = [];

  before(async () => {
    instance = await createDurableInstance({ rows: 2, size: 8192 });
    keys = [...instance.expected.keys()].sort();
  });
  after(async () => {
    await Promise.all(gates.map((gate) => gate.close()));
    await instance.close();
  });

  /** A relay to `endpoint`'s server that lets the storage checks through and refuses every connection from the first request that contains `text` on. */
  async function refusingFrom(endpoint: string, text: string): Promise<string> {
    const gate = await startTcpGate(Number(new URL(endpoint).port));
    gate.failWhen(text, 'drop');
    gates.push(gate);
    return `http://127.0.0.1:${gate.port}`;
  }

  /** Runs sync with `sections` and a state file of its own; every object fails. Returns the failures `report` lists, and sync's stderr. */
  async function syncFailing(sections: Record<string, Record<string, string>>, name: string): Promise<{ failures: Failure[]; stderr: string; reported: string }> {
    const config = await instance.writeConfig({ ...sections, sync: { concurrency: '4', state_path: `${instance.directory}/${name}.sqlite` } }, `${name}.ini`);
    const result = await runCli(['sync', '--config', config, '--json']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(jobSummary(result.stdout, 'media_attachments').failed, keys.length);
    const report = await runCli(['report', '--config', config]);
    assert.equal(report.code, 0, report.stderr);
    const jsonl = await runCli(['report', '--config', config, '--format', 'jsonl']);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const failures = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as Failure);
    assert.deepEqual(failures.map((failure) => failure.key).sort(), keys);
    return { failures, stderr: result.stderr, reported: report.stdout };
  }

  /** The reason is the same in sync's log, the state file (report's records) and report's list. */
  function assertEverywhere(run: { failures: Failure[]; stderr: string; reported: string }, reason: RegExp): void {
    for (const failure of run.failures) {
      assert.equal(failure.outcome, 'failed', failure.key);
      assert.match(failure.reason, reason, failure.key);
      assert.ok(run.reported.includes(`${failure.key}  (${failure.reason})`), `report lists ${failure.key} with its reason`);
      assert.ok(run.stderr.includes(JSON.stringify(failure.reason)), `sync logged ${failure.key}'s reason`);
    }
  }

  test('a source that refuses connections: "reading from the source: ECONNREFUSED"', async () => {
    const endpoint = await refusingFrom(instance.sourceServer.endpoint, `GET /${sourceBucket}/media_attachments/`);
    const run = await syncFailing({ source: s3Section(endpoint, sourceBucket) }, 'source-refuses');
    assertEverywhere(run, /^reading from the source: ECONNREFUSED \(after 5 attempts\)$/);
  });

  test('a destination that refuses connections: its step at the destination, ECONNREFUSED', async () => {
    const endpoint = await refusingFrom(instance.destinationServer.endpoint, `PUT /${destinationBucket}/media_attachments/`);
    const run = await syncFailing({ destination: s3Section(endpoint, destinationBucket) }, 'destination-refuses');
    // The first try's PUT met the refusal; each retry asks the destination for the object first (it may have been written after all).
    assertEverywhere(run, /^checking the destination: ECONNREFUSED \(after 5 attempts\)$/);
  });

  test('a destination that refuses the writes: "writing to the destination: 403"', async () => {
    const isPut = (request: RecordedRequest): boolean => request.method === 'PUT' && perObjectRequests([request]).length === 1;
    instance.destinationProxy.setFaults({ choose: (request) => (isPut(request) ? 'forbidden' : undefined) });
    try {
      const run = await syncFailing({ source: instance.proxiedSource(), destination: instance.proxiedDestination('refused') }, 'destination-forbids');
      assertEverywhere(run, /^writing to the destination: 403 (AccessDenied|Forbidden)$/);
    } finally {
      instance.destinationProxy.setFaults(undefined);
    }
  });

  test('a source whose bodies break mid-way: "reading from the source", though the write is what fails', async () => {
    instance.sourceProxy.setFaults({ choose: (request) => (request.method === 'GET' && perObjectRequests([request]).length === 1 ? 'chunked-cut' : undefined) });
    try {
      const run = await syncFailing({ source: instance.proxiedSource(), destination: instance.proxiedDestination('cut') }, 'source-breaks');
      assertEverywhere(run, /^reading from the source: .+ \(after 5 attempts\)$/);
    } finally {
      instance.sourceProxy.setFaults(undefined);
    }
  });
});
