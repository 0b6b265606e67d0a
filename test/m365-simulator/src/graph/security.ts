/**
 * Defender XDR through Graph: `security/alerts_v2` and `security/incidents` (microsoft-notes §3.1, §3.2).
 *
 * Paging is through `@odata.nextLink`; legacy `$skip` paging is refused past `$top + $skip > 6000`
 * and `$top` is capped at 1000 (microsoft-notes M8). `incidents?$expand=alerts` with a `$filter` fails with a
 * persistent 500 on large tenants (microsoft-notes M9).
 */
import type { RawRecord, SimRequest, SimResponse, SimRoute, VerifiedToken } from '../types';
import { authorize, throttle, type GraphEnv } from './access';
import { presentAlert, wantsUnknownEnumMembers } from './enums';
import { graphError } from './errors';
import { listResponse, queryOption, type ListSpec } from './paging';

const ALERT_ROLES = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All'];
const INCIDENT_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];

const PAGING: Pick<ListSpec, 'top' | 'skip' | 'family'> = {
  family: 'security',
  top: { default: 1000, max: 1000, overflow: 'error' },
  skip: { maxTopPlusSkip: 6000 },
};

function gate(env: GraphEnv, req: SimRequest, roles: string[]): VerifiedToken {
  const token = authorize(env, req, 'security', roles);
  throttle(env, req, token, 'security');
  if (!token.tenant.licences.defenderXdr) {
    throw graphError(env.ctx.clock, req, 403, 'Forbidden', 'The tenant is not licensed for Microsoft Defender XDR.');
  }
  return token;
}

function shapedAlerts(req: SimRequest, token: VerifiedToken): RawRecord[] {
  const includeUnknown = wantsUnknownEnumMembers(req);
  return token.tenant.alerts.map((a) => ({ '@odata.type': '#microsoft.graph.security.alert', ...presentAlert(a, includeUnknown) }));
}

function json(body: RawRecord): SimResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

function notFound(env: GraphEnv, req: SimRequest, kind: string): Error {
  return graphError(env.ctx.clock, req, 404, 'NotFound', `${kind} '${req.params.id}' was not found.`);
}

function listAlerts(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ALERT_ROLES);
  return listResponse(env.ctx.clock, req, shapedAlerts(req, token), {
    ...PAGING,
    filter: {
      properties: ['assignedTo', 'classification', 'determination', 'createdDateTime', 'lastUpdateDateTime', 'severity', 'serviceSource', 'status'],
    },
    orderable: ['createdDateTime', 'lastUpdateDateTime', 'severity'],
    enumOrder: { severity: ['unknown', 'informational', 'low', 'medium', 'high', 'unknownFutureValue'] },
    defaultOrder: { property: 'createdDateTime', desc: true },
    context: 'security/alerts_v2',
  });
}

function getAlert(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ALERT_ROLES);
  const alert = shapedAlerts(req, token).find((a) => a.id === req.params.id);
  if (!alert) throw notFound(env, req, 'Alert');
  return json({ '@odata.context': `${req.baseUrl}/v1.0/$metadata#security/alerts_v2/$entity`, ...alert });
}

/** `$expand=alerts` is the only expansion incidents support. */
function expandsAlerts(env: GraphEnv, req: SimRequest): boolean {
  const expand = queryOption(req, 'expand');
  if (expand === undefined) return false;
  const parts = expand.split(',').map((p) => p.trim().toLowerCase());
  if (parts.some((p) => p !== 'alerts')) {
    throw graphError(env.ctx.clock, req, 400, 'BadRequest', `Could not find a property named '${expand}' on type 'microsoft.graph.security.incident'.`);
  }
  return true;
}

/**
 * The incident's alerts are the tenant's alerts that name it; an incident loaded with its alerts
 * embedded (and no matching alerts_v2 records) keeps those.
 */
function incidentShaper(req: SimRequest, token: VerifiedToken, expand: boolean): (incident: RawRecord) => RawRecord {
  if (!expand) return (incident) => incident;
  const alerts = shapedAlerts(req, token);
  const includeUnknown = wantsUnknownEnumMembers(req);
  return (incident) => {
    const linked = alerts.filter((a) => String(a.incidentId) === String(incident.id));
    const stored = token.tenant.incidents.find((i) => String(i.id) === String(incident.id))?.alerts;
    const embedded = linked.length === 0 && Array.isArray(stored) ? (stored as RawRecord[]).map((a) => presentAlert(a, includeUnknown)) : [];
    return { ...incident, alerts: linked.length ? linked : embedded };
  };
}

function shapedIncidents(token: VerifiedToken): RawRecord[] {
  return token.tenant.incidents.map((i) => {
    const { alerts: _stored, ...rest } = i;
    return { '@odata.type': '#microsoft.graph.security.incident', ...rest };
  });
}

function listIncidents(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, INCIDENT_ROLES);
  const expand = expandsAlerts(env, req);
  const threshold = env.options().incidentsExpandFailureThreshold;
  return listResponse(env.ctx.clock, req, shapedIncidents(token), {
    ...PAGING,
    filter: {
      properties: ['assignedTo', 'classification', 'createdDateTime', 'determination', 'lastUpdateDateTime', 'severity', 'status'],
    },
    orderable: ['createdDateTime', 'lastUpdateDateTime'],
    defaultOrder: { property: 'createdDateTime', desc: true },
    context: expand ? 'security/incidents(alerts())' : 'security/incidents',
    beforePage: (filter) => {
      // elastic/integrations#18144: on large tenants this combination fails every time (microsoft-notes M9).
      if (expand && filter && token.tenant.incidents.length > threshold) {
        throw graphError(env.ctx.clock, req, 500, 'generalException', 'General exception while processing.');
      }
    },
    expand: incidentShaper(req, token, expand),
  });
}

function getIncident(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, INCIDENT_ROLES);
  const expand = expandsAlerts(env, req);
  const incident = shapedIncidents(token).find((i) => String(i.id) === req.params.id);
  if (!incident) throw notFound(env, req, 'Incident');
  const context = `${req.baseUrl}/v1.0/$metadata#security/incidents${expand ? '(alerts())' : ''}/$entity`;
  return json({ '@odata.context': context, ...incidentShaper(req, token, expand)(incident) });
}

// Writable enums of alert and incident (microsoft-notes M42): Graph accepts the members up to and including the sentinel.
const ALERT_STATUS = ['unknown', 'new', 'inProgress', 'resolved', 'unknownFutureValue'];
const INCIDENT_STATUS = ['active', 'resolved', 'inProgress', 'redirected', 'unknownFutureValue', 'awaitingAction'];
const CLASSIFICATION = ['unknown', 'falsePositive', 'truePositive', 'informationalExpectedActivity', 'unknownFutureValue'];
const DETERMINATION = [
  'unknown',
  'apt',
  'malware',
  'securityPersonnel',
  'securityTesting',
  'unwantedSoftware',
  'other',
  'multiStagedAttack',
  'compromisedAccount',
  'phishing',
  'maliciousUserActivity',
  'notMalicious',
  'notEnoughDataToValidate',
  'confirmedUserActivity',
  'lineOfBusinessApplication',
  'unknownFutureValue',
];

interface Writable {
  enums: Record<string, string[]>;
  strings: string[];
  stringLists: string[];
}

function badRequest(env: GraphEnv, req: SimRequest, message: string): Error {
  return graphError(env.ctx.clock, req, 400, 'BadRequest', message);
}

/** Validates a PATCH body against the writable properties; returns the changes to apply. */
function patchChanges(env: GraphEnv, req: SimRequest, spec: Writable): RawRecord {
  const body = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(env, req, 'The request body is not a JSON object.');
  const changes: RawRecord = {};
  for (const [key, value] of Object.entries(body as RawRecord)) {
    if (key in spec.enums) {
      if (typeof value !== 'string' || !spec.enums[key].includes(value)) {
        throw badRequest(env, req, `Requested value '${String(value)}' was not found for property '${key}'.`);
      }
    } else if (spec.strings.includes(key)) {
      if (value !== null && typeof value !== 'string') throw badRequest(env, req, `Property '${key}' expects a string.`);
    } else if (spec.stringLists.includes(key)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw badRequest(env, req, `Property '${key}' expects a collection of strings.`);
    } else {
      throw badRequest(env, req, `The property '${key}' does not exist or is not writable.`);
    }
    changes[key] = value;
  }
  return changes;
}

function patchAlert(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ['SecurityAlert.ReadWrite.All']);
  const stored = token.tenant.alerts.find((a) => a.id === req.params.id);
  if (!stored) throw notFound(env, req, 'Alert');
  const changes = patchChanges(env, req, {
    enums: { status: ALERT_STATUS, classification: CLASSIFICATION, determination: DETERMINATION },
    strings: ['assignedTo'],
    stringLists: [],
  });
  Object.assign(stored, changes, { lastUpdateDateTime: env.ctx.clock.now().toISOString() });
  if (changes.status === 'resolved') stored.resolvedDateTime = stored.lastUpdateDateTime;
  return getAlert(env, req);
}

function patchIncident(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ['SecurityIncident.ReadWrite.All']);
  const stored = token.tenant.incidents.find((i) => String(i.id) === req.params.id);
  if (!stored) throw notFound(env, req, 'Incident');
  const changes = patchChanges(env, req, {
    enums: { status: INCIDENT_STATUS, classification: CLASSIFICATION, determination: DETERMINATION },
    strings: ['assignedTo'],
    stringLists: ['customTags'],
  });
  Object.assign(stored, changes, { lastUpdateDateTime: env.ctx.clock.now().toISOString() });
  return getIncident(env, req);
}

/** Appends an alertComment; Graph answers 200 with the record's whole comment collection (microsoft-notes M42). */
function addComment(env: GraphEnv, req: SimRequest, record: RawRecord, token: VerifiedToken, context: string): SimResponse {
  const body = req.body as RawRecord | undefined;
  const comment = body && typeof body === 'object' ? body.comment : undefined;
  if (typeof comment !== 'string' || comment.length === 0) throw badRequest(env, req, "The property 'comment' is required.");
  const comments = Array.isArray(record.comments) ? (record.comments as RawRecord[]) : [];
  comments.push({
    '@odata.type': 'microsoft.graph.security.alertComment',
    comment,
    createdByDisplayName: token.app?.displayName ?? 'Automation',
    createdDateTime: env.ctx.clock.now().toISOString(),
  });
  record.comments = comments;
  record.lastUpdateDateTime = env.ctx.clock.now().toISOString();
  return json({ '@odata.context': `${req.baseUrl}/v1.0/$metadata#${context}`, value: comments });
}

function commentAlert(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ['SecurityAlert.ReadWrite.All']);
  const stored = token.tenant.alerts.find((a) => a.id === req.params.id);
  if (!stored) throw notFound(env, req, 'Alert');
  return addComment(env, req, stored, token, 'microsoft.graph.security.alertComment');
}

function commentIncident(env: GraphEnv, req: SimRequest): SimResponse {
  const token = gate(env, req, ['SecurityIncident.ReadWrite.All']);
  const stored = token.tenant.incidents.find((i) => String(i.id) === req.params.id);
  if (!stored) throw notFound(env, req, 'Incident');
  return addComment(env, req, stored, token, 'microsoft.graph.security.alertComment');
}

export function securityRoutes(env: GraphEnv): SimRoute[] {
  return [
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/alerts_v2', handler: (req) => listAlerts(env, req) },
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/alerts_v2/:id', handler: (req) => getAlert(env, req) },
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/incidents', handler: (req) => listIncidents(env, req) },
    { host: 'graph', method: 'GET', pattern: '/v1.0/security/incidents/:id', handler: (req) => getIncident(env, req) },
    { host: 'graph', method: 'PATCH', pattern: '/v1.0/security/alerts_v2/:id', handler: (req) => patchAlert(env, req) },
    { host: 'graph', method: 'PATCH', pattern: '/v1.0/security/incidents/:id', handler: (req) => patchIncident(env, req) },
    { host: 'graph', method: 'POST', pattern: '/v1.0/security/alerts_v2/:id/comments', handler: (req) => commentAlert(env, req) },
    { host: 'graph', method: 'POST', pattern: '/v1.0/security/incidents/:id/comments', handler: (req) => commentIncident(env, req) },
  ];
}
