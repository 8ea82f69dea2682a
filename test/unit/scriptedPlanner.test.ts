import { describe, expect, it } from 'vitest';
import type { MockRequest } from '../../src/core/mockModel/mockResponsesServer.js';
import { orderedPlanReply } from '../../src/core/mockModel/scriptedPlanner.js';

const request = (text: string, isStructured = true) =>
  ({ body: {}, lastUserText: `Request: ${text}\n\nCurrent state of cm-supervisor:\n- workspace api (/w/api): app-server ready, no threads\n- workspace web (/w/web): app-server ready, no threads`, functionCallOutputs: [], isStructured, isToolFollowUp: false, receivedAtMs: 0, goalObjective: null, goalTurns: 0, lastToolName: null, repeat: 0 }) as MockRequest;

describe('the mock planner for ordered requests', () => {
  it('"first X, then Y": Y comes after X, each in the workspace it names (else the first)', () => {
    const reply = orderedPlanReply(request('first fix the build, then run the web tests'));
    expect(reply).toMatchObject({
      kind: 'json',
      value: { version: 2, actions: [{ id: 'fix', workspace: 'api', prompt: 'Fix the build', after: null }, { id: 'run', workspace: 'web', prompt: 'Run the web tests', after: ['fix'] }] },
    });
  });

  it('the same first word gets unique ids', () => {
    const reply = orderedPlanReply(request('First run the api tests and then run the web tests'));
    expect(reply && reply.kind === 'json' && (reply.value as { actions: { id: string }[] }).actions.map((a) => a.id)).toEqual(['run', 'run-2']);
  });

  it('nothing for other requests, or for turns without structured output', () => {
    expect(orderedPlanReply(request('run the tests'))).toBeNull();
    expect(orderedPlanReply(request('first a then b', false))).toBeNull();
  });
});
