import { graphHarness } from './graph-support/harness';
import { makeTenant, TENANT_ID, tokenFor } from './graph-support/fake-context';

const READ = tokenFor(['SecurityAlert.Read.All', 'SecurityIncident.Read.All']);
const WRITE = tokenFor(['SecurityAlert.ReadWrite.All', 'SecurityIncident.ReadWrite.All']);
const NO_THROTTLE = { graph: { throttling: { securityPerMinute: 0 } } };
const OLD = '2025-03-01T00:00:00.000Z';

function tenant() {
  return makeTenant({
    alerts: [{ id: 'da1', incidentId: '7', status: 'new', classification: 'unknown', determination: 'unknown', tenantId: TENANT_ID, lastUpdateDateTime: OLD }],
    incidents: [
      { id: '7', status: 'active', classification: 'unknown', determination: 'unknown', tenantId: TENANT_ID, lastUpdateDateTime: OLD, customTags: [] },
    ],
  });
}

describe('PATCH security/alerts_v2 and security/incidents', () => {
  it('updates an alert and moves lastUpdateDateTime', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const res = await h.call('PATCH', '/v1.0/security/alerts_v2/da1', {
      token: WRITE,
      body: { status: 'resolved', classification: 'truePositive', determination: 'phishing', assignedTo: 'soc@contoso.com' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', classification: 'truePositive', determination: 'phishing', assignedTo: 'soc@contoso.com' });
    expect(res.body.lastUpdateDateTime).not.toBe(OLD);
    const read = await h.call('GET', '/v1.0/security/alerts_v2/da1', { token: READ });
    expect(read.body.determination).toBe('phishing');
  });

  it('refuses a read-only token with 403 and changes nothing', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const res = await h.call('PATCH', '/v1.0/security/alerts_v2/da1', { token: READ, body: { status: 'resolved' } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBeDefined();
    const read = await h.call('GET', '/v1.0/security/alerts_v2/da1', { token: READ });
    expect(read.body.status).toBe('new');
  });

  it('refuses an unknown enum value and an unwritable property with 400', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const bad = await h.call('PATCH', '/v1.0/security/alerts_v2/da1', { token: WRITE, body: { status: 'closed' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BadRequest');
    const ro = await h.call('PATCH', '/v1.0/security/alerts_v2/da1', { token: WRITE, body: { severity: 'high' } });
    expect(ro.status).toBe(400);
    const missing = await h.call('PATCH', '/v1.0/security/alerts_v2/nope', { token: WRITE, body: { status: 'resolved' } });
    expect(missing.status).toBe(404);
  });

  it('updates an incident, customTags included; alert statuses are not incident statuses', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const res = await h.call('PATCH', '/v1.0/security/incidents/7', {
      token: WRITE,
      body: { status: 'resolved', classification: 'falsePositive', determination: 'notMalicious', customTags: ['cordon'] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'resolved', customTags: ['cordon'] });
    expect(res.body.lastUpdateDateTime).not.toBe(OLD);
    const wrong = await h.call('PATCH', '/v1.0/security/incidents/7', { token: WRITE, body: { status: 'new' } });
    expect(wrong.status).toBe(400);
  });

  it('adds comments to an alert and an incident, and refuses an empty one', async () => {
    const h = graphHarness([tenant()], NO_THROTTLE);
    const a = await h.call('POST', '/v1.0/security/alerts_v2/da1/comments', {
      token: WRITE,
      body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: 'contained' },
    });
    expect(a.status).toBe(200);
    expect(a.body.value).toHaveLength(1);
    expect(a.body.value[0].comment).toBe('contained');
    const i = await h.call('POST', '/v1.0/security/incidents/7/comments', { token: WRITE, body: { comment: 'closed by Cordon' } });
    expect(i.status).toBe(200);
    expect(i.body.value[0].comment).toBe('closed by Cordon');
    const empty = await h.call('POST', '/v1.0/security/alerts_v2/da1/comments', { token: WRITE, body: {} });
    expect(empty.status).toBe(400);
    const ro = await h.call('POST', '/v1.0/security/incidents/7/comments', { token: READ, body: { comment: 'x' } });
    expect(ro.status).toBe(403);
  });
});
