import type { ActionHandler, StepContext } from '../../actions/action-handler';
import { ActionCatalogue } from '../../actions/action-catalogue';
import type { TenantGraphs } from '../tenant-graphs';
import type { GraphSecurityCollector } from './graph-security.collector';
import { commentText, differences, XdrActions } from './xdr-actions';

const ACTION = '7d0c6a52-1f1e-4c1b-9a57-3f6d2f0e1a11';

/** The handlers with a fake Graph holding one alert; calls are recorded. */
function setup(comments: Array<Record<string, unknown>>) {
  const alert = { id: 'da1', title: 'Ransomware', status: 'new', comments };
  const calls: string[] = [];
  const graph = {
    get: jest.fn(async (path: string) => {
      calls.push(`GET ${path}`);
      return structuredClone(alert);
    }),
    post: jest.fn(async (path: string, body: { comment: string }) => {
      calls.push(`POST ${path}`);
      alert.comments.push({ comment: body.comment, createdDateTime: '2026-12-07T09:00:00Z' });
      return { value: alert.comments };
    }),
    patch: jest.fn(),
  };
  const catalogue = new ActionCatalogue();
  const graphs = { of: async () => graph } as unknown as TenantGraphs;
  const collector = { storeObject: jest.fn(async () => true) } as unknown as GraphSecurityCollector;
  new XdrActions(catalogue, graphs, collector).onModuleInit();
  return { handler: catalogue.get('alert.comment') as ActionHandler, calls, alert };
}

function ctx(attempt: number): StepContext {
  return {
    actionId: ACTION,
    tenantId: 't1',
    target: { requested: 'da1', id: 'da1', display: 'Ransomware', identities: ['da1'], groups: [] },
    params: { comment: 'Contained.' },
    reason: 'INC-1',
    requestedBy: { type: 'apiKey', id: 'k', name: 'k' },
    clientRequestId: 'c1',
    capabilities: {},
    attempt,
  };
}

describe('alert.comment', () => {
  it('posts the comment with the action marker on the first attempt, without reading first', async () => {
    const { handler, calls, alert } = setup([]);
    const outcome = await handler.steps({})[0].run(ctx(1));
    expect(outcome).toMatchObject({ status: 'succeeded', verified: true, detail: { posted: true, adopted: false } });
    expect(calls).toEqual(['POST /security/alerts_v2/da1/comments', 'GET /security/alerts_v2/da1']);
    expect(alert.comments.map((c) => c.comment)).toEqual([`Contained. [cordon:${ACTION}]`]);
  });

  it('on a retry after a crash, adopts the comment an earlier attempt posted instead of posting it twice', async () => {
    const { handler, calls, alert } = setup([
      { comment: 'someone else' },
      { comment: commentText('Contained.', ACTION), createdDateTime: '2026-12-07T08:59:00Z' },
    ]);
    const outcome = await handler.steps({})[0].run(ctx(2));
    expect(outcome).toMatchObject({ status: 'succeeded', verified: true, detail: { posted: false, adopted: true, createdDateTime: '2026-12-07T08:59:00Z' } });
    expect(calls).toEqual(['GET /security/alerts_v2/da1']);
    expect(alert.comments).toHaveLength(2);
  });

  it('on a retry whose earlier attempt never reached Microsoft, posts it once', async () => {
    const { handler, calls, alert } = setup([{ comment: `other [cordon:00000000-0000-4000-8000-000000000000]` }]);
    await handler.steps({})[0].run(ctx(2));
    expect(calls.filter((c) => c.startsWith('POST'))).toHaveLength(1);
    expect(alert.comments).toHaveLength(2);
  });
});

describe('differences', () => {
  it('compares enums case-insensitively, tags as a set, and keeps values Cordon does not know', () => {
    const fields = ['status', 'classification', 'assignedTo', 'customTags'];
    expect(differences(fields, { status: 'Resolved', customTags: ['b', 'a'] }, { status: 'resolved', customTags: ['a', 'b'] })).toEqual([]);
    expect(differences(fields, { status: 'somethingNew', assignedTo: null }, { status: 'resolved', assignedTo: 'soc' })).toEqual([
      ['status', 'somethingNew', 'resolved'],
      ['assignedTo', null, 'soc'],
    ]);
    expect(differences(fields, { classification: 'truePositive' }, {})).toEqual([]);
  });
});
