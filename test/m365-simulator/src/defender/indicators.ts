import { isIP } from 'node:net';
import type { SimRequest, SimResponse, SimTenant, VerifiedToken } from '../types';
import { requestorOf, type DefenderCall } from './call';
import { collectionPage, parseCollectionQuery } from './collection-query';
import { badRequest, invalidRequestBody, mdeError, missingParameter, resourceNotFound } from './errors';
import type { RateLimit } from './rate-limit';
import { jsonObjectBody } from './response-actions';

/**
 * Defender for Endpoint custom indicators (microsoft-notes §13):
 *
 * - `POST /api/indicators` (post-ti-indicator): an upsert keyed on (indicatorType, indicatorValue) that
 *   answers 200 with the Indicator, new or updated; field names are camelCase;
 * - `POST /api/indicators/import` (import-ti-indicators): `{"Indicators":[…]}`, at most 500, answered
 *   200 with one `{id, indicator, isFailed, failureReason}` per item, failures included;
 * - `GET /api/indicators` (get-ti-indicators-collection) with `$filter`, `$top`, `$skip`;
 * - `DELETE /api/indicators/{id}` (delete-ti-indicator-by-id): 204, 404 when unknown.
 *
 * Permission: Ti.ReadWrite or Ti.ReadWrite.All. An app with only Ti.ReadWrite sees (lists, deletes)
 * only the indicators it created, as the list page says. At most 15,000 active indicators per tenant
 * (`SimTenant.indicatorLimit` lowers it for a test); an indicator whose `expirationTime` has passed is
 * expired and no longer counts, but is still listed with that time (sim choice, microsoft-notes M46).
 *
 * An update replaces the optional fields with what the new body says (absent = default), except
 * `application`, which the doc says is used on create only.
 *
 * Sim choices where Microsoft documents no wording: a create over the limit is 400 `BadRequest`; a
 * value that is not of its type is 400 with the matching documented code (`InvalidHashValue`,
 * `InvalidIpAddress`, `InvalidDomainName`, `InvalidUrl`); CIDR and private or reserved addresses are
 * `InvalidIpAddress`.
 */

export const INDICATOR_PERMISSIONS = ['Ti.ReadWrite', 'Ti.ReadWrite.All'];
/** 100 calls per minute and 1,500 per hour for create, list and delete (microsoft-notes M45). */
export const INDICATOR_API_LIMIT: RateLimit = { perMinute: 100, perHour: 1500 };
/** Import documents 30 calls per minute and no hourly figure (microsoft-notes M45). */
export const INDICATOR_IMPORT_LIMIT: RateLimit = { perMinute: 30, perHour: 30 * 60 };
export const MAX_ACTIVE_INDICATORS = 15_000;
export const MAX_IMPORT_BATCH = 500;

export const INDICATOR_TYPES = ['FileSha1', 'FileMd5', 'CertificateThumbprint', 'FileSha256', 'IpAddress', 'DomainName', 'Url'] as const;
export const INDICATOR_ACTIONS = ['Alert', 'Warn', 'Block', 'Audit', 'BlockAndRemediate', 'AlertAndBlock', 'Allowed'] as const;
export const INDICATOR_SEVERITIES = ['Informational', 'Low', 'Medium', 'High'] as const;

/** The `$filter` properties the list page documents. */
export const INDICATOR_FILTER_PROPERTIES = [
  'application',
  'createdByDisplayName',
  'expirationTime',
  'generateAlert',
  'title',
  'rbacGroupNames',
  'rbacGroupIds',
  'indicatorValue',
  'indicatorType',
  'creationTimeDateTimeUtc',
  'createdBy',
  'action',
  'severity',
] as const;

export interface IndicatorRecord {
  id: string;
  indicatorValue: string;
  indicatorType: string;
  action: string;
  title: string;
  description: string;
  severity: string;
  application: string | null;
  recommendedActions: string | null;
  rbacGroupNames: string[];
  educateUrl: string | null;
  generateAlert: boolean;
  expirationTime: string | null;
  createdBy: string;
  createdBySource: string;
  creationTimeDateTimeUtc: string;
  lastUpdatedBy: string;
  lastUpdateTime: string;
}

interface IndicatorState {
  /** Oldest first. */
  indicators: IndicatorRecord[];
  nextId: number;
}

/** Keyed by the tenant object, like the machine actions: a new scenario starts empty. */
const states = new WeakMap<SimTenant, IndicatorState>();

function stateOf(tenant: SimTenant): IndicatorState {
  let state = states.get(tenant);
  if (!state) {
    state = { indicators: [], nextId: 1 };
    states.set(tenant, state);
  }
  return state;
}

/** The tenant's indicators as Defender holds them (tests read Microsoft's side back with this). */
export function indicatorsOf(tenant: SimTenant): IndicatorRecord[] {
  return stateOf(tenant).indicators;
}

export function isExpired(indicator: IndicatorRecord, nowMs: number): boolean {
  return indicator.expirationTime !== null && Date.parse(indicator.expirationTime) <= nowMs;
}

const canSeeAll = (token: VerifiedToken) => token.roles.includes('Ti.ReadWrite.All');

function visible(call: DefenderCall): IndicatorRecord[] {
  const all = stateOf(call.tenant).indicators;
  if (canSeeAll(call.token)) return all;
  const me = requestorOf(call.token);
  return all.filter((i) => i.createdBy === me);
}

const HEX = { FileSha1: 40, FileMd5: 32, FileSha256: 64, CertificateThumbprint: 40 } as Record<string, number>;

function privateIp(value: string): boolean {
  if (isIP(value) === 4) {
    const [a, b] = value.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a >= 224;
  }
  const v = value.toLowerCase();
  return v === '::' || v === '::1' || /^f[cd]/.test(v) || /^fe[89ab]/.test(v) || /^ff/.test(v);
}

/** The problem with a value of its type, as Microsoft's code and message, or undefined. */
function valueProblem(type: string, value: string): { code: string; message: string } | undefined {
  if (HEX[type] !== undefined) {
    return new RegExp(`^[0-9a-f]{${HEX[type]}}$`, 'i').test(value)
      ? undefined
      : { code: 'InvalidHashValue', message: `Hash value ${value} is not a valid ${type}` };
  }
  if (type === 'IpAddress') {
    if (value.includes('/')) return { code: 'InvalidIpAddress', message: `IP address ${value} is invalid: CIDR notation is not supported` };
    if (!isIP(value)) return { code: 'InvalidIpAddress', message: `IP address ${value} is invalid` };
    return privateIp(value) ? { code: 'InvalidIpAddress', message: `IP address ${value} is not a public address` } : undefined;
  }
  if (type === 'DomainName') {
    const ok = value.length <= 253 && /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/i.test(value);
    return ok ? undefined : { code: 'InvalidDomainName', message: `Domain name ${value} is invalid` };
  }
  if (type === 'Url') {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
    } catch {
      // fall through
    }
    return { code: 'InvalidUrl', message: `Url ${value} is invalid` };
  }
  return undefined;
}

/** Hashes and names compare case-insensitively; a URL as written. */
const keyOf = (type: string, value: string) => `${type.toLowerCase()}|${type === 'Url' ? value : value.toLowerCase()}`;

class ItemError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Validates one indicator body and upserts it; throws ItemError with Microsoft's code. */
function upsert(call: DefenderCall, raw: Record<string, unknown>): { record: IndicatorRecord; created: boolean } {
  for (const name of ['indicatorValue', 'indicatorType', 'action', 'title', 'description']) {
    const v = raw[name];
    if (v === undefined || v === null || v === '') throw new ItemError('MissingRequiredParameter', `Parameter ${name} is missing.`);
    if (typeof v !== 'string') throw new ItemError('InvalidRequestBody', `Request body is incorrect: ${name} must be a string`);
  }
  const type = raw.indicatorType as string;
  const action = raw.action as string;
  const value = (raw.indicatorValue as string).trim();
  if (!(INDICATOR_TYPES as readonly string[]).includes(type))
    throw new ItemError('InvalidRequestBody', `Request body is incorrect: unknown indicatorType ${type}`);
  if (!(INDICATOR_ACTIONS as readonly string[]).includes(action))
    throw new ItemError('InvalidRequestBody', `Request body is incorrect: unknown action ${action}`);
  if (raw.severity !== undefined && raw.severity !== null && !(INDICATOR_SEVERITIES as readonly string[]).includes(String(raw.severity))) {
    throw new ItemError('InvalidRequestBody', `Request body is incorrect: unknown severity ${String(raw.severity)}`);
  }
  if (raw.generateAlert !== undefined && typeof raw.generateAlert !== 'boolean') {
    throw new ItemError('InvalidRequestBody', 'Request body is incorrect: generateAlert must be a boolean');
  }
  if (action === 'Audit' && raw.generateAlert !== true)
    throw new ItemError('InvalidRequestBody', 'Request body is incorrect: Audit requires generateAlert true');
  let expirationTime: string | null = null;
  if (raw.expirationTime !== undefined && raw.expirationTime !== null) {
    const ms = typeof raw.expirationTime === 'string' ? Date.parse(raw.expirationTime) : NaN;
    if (Number.isNaN(ms)) throw new ItemError('InvalidRequestBody', 'Request body is incorrect: expirationTime is not a date');
    expirationTime = new Date(ms).toISOString();
  }
  const problem = valueProblem(type, value);
  if (problem) throw new ItemError(problem.code, problem.message);

  const state = stateOf(call.tenant);
  const key = keyOf(type, value);
  const existing = state.indicators.find((i) => keyOf(i.indicatorType, i.indicatorValue) === key);
  const counts = !existing || isExpired(existing, call.nowMs);
  const active = state.indicators.filter((i) => !isExpired(i, call.nowMs)).length;
  const limit = call.tenant.indicatorLimit ?? MAX_ACTIVE_INDICATORS;
  const willBeActive = expirationTime === null || Date.parse(expirationTime) > call.nowMs;
  if (counts && willBeActive && active >= limit) {
    throw new ItemError('BadRequest', `The tenant has reached the limit of ${limit} active indicators`);
  }
  const nowIso = new Date(call.nowMs).toISOString();
  const by = requestorOf(call.token);
  const fields = {
    action,
    title: raw.title as string,
    description: raw.description as string,
    severity: str(raw.severity) ?? 'Informational',
    recommendedActions: str(raw.recommendedActions) ?? null,
    rbacGroupNames: Array.isArray(raw.rbacGroupNames)
      ? raw.rbacGroupNames.map(String)
      : typeof raw.rbacGroupNames === 'string'
        ? raw.rbacGroupNames.split(',')
        : [],
    educateUrl: str(raw.educateUrl) ?? null,
    generateAlert: raw.generateAlert === true,
    expirationTime,
    lastUpdatedBy: by,
    lastUpdateTime: nowIso,
  };
  if (existing) {
    // `application` is used on create only (post-ti-indicator).
    Object.assign(existing, fields);
    return { record: existing, created: false };
  }
  const record: IndicatorRecord = {
    id: String(state.nextId++),
    indicatorValue: value,
    indicatorType: type,
    application: str(raw.application) ?? null,
    createdBy: by,
    createdBySource: 'PublicApi',
    creationTimeDateTimeUtc: nowIso,
    ...fields,
  };
  state.indicators.push(record);
  return { record, created: true };
}

/** The Indicator entity (ti-indicator resource page). */
export function indicatorBody(i: IndicatorRecord): Record<string, unknown> {
  return {
    id: i.id,
    indicatorValue: i.indicatorValue,
    indicatorType: i.indicatorType,
    action: i.action,
    application: i.application,
    source: i.createdBy,
    sourceType: 'AadApp',
    createdBy: i.createdBy,
    createdByDisplayName: i.createdBy,
    createdBySource: i.createdBySource,
    severity: i.severity,
    category: 1,
    title: i.title,
    description: i.description,
    recommendedActions: i.recommendedActions,
    creationTimeDateTimeUtc: i.creationTimeDateTimeUtc,
    expirationTime: i.expirationTime,
    lastUpdateTime: i.lastUpdateTime,
    lastUpdatedBy: i.lastUpdatedBy,
    rbacGroupNames: i.rbacGroupNames,
    rbacGroupIds: [],
    educateUrl: i.educateUrl,
    generateAlert: i.generateAlert,
    externalID: null,
  };
}

export function submitIndicator(call: DefenderCall): SimResponse {
  const body = jsonObjectBody(call.req);
  try {
    const { record } = upsert(call, body);
    return { status: 200, body: { '@odata.context': `${call.req.baseUrl}/api/$metadata#Indicators/$entity`, ...indicatorBody(record) } };
  } catch (error) {
    if (error instanceof ItemError) throw badRequest(call.req, error.code, error.message);
    throw error;
  }
}

export function importIndicators(call: DefenderCall): SimResponse {
  const body = jsonObjectBody(call.req);
  const items = body.Indicators;
  if (items === undefined) throw missingParameter(call.req, 'Indicators');
  if (!Array.isArray(items) || items.length === 0) throw invalidRequestBody(call.req, 'Indicators must be a non-empty list');
  if (items.length > MAX_IMPORT_BATCH) {
    throw badRequest(call.req, 'MaximumBatchSizeExceeded', `Maximum batch size is ${MAX_IMPORT_BATCH}, got ${items.length}`);
  }
  const value = items.map((item: unknown) => {
    const indicator = item && typeof item === 'object' ? ((item as Record<string, unknown>).indicatorValue ?? null) : null;
    if (!item || typeof item !== 'object' || Array.isArray(item)) return { id: null, indicator, isFailed: true, failureReason: 'Request body is incorrect' };
    try {
      const { record } = upsert(call, item as Record<string, unknown>);
      return { id: record.id, indicator: record.indicatorValue, isFailed: false, failureReason: null };
    } catch (error) {
      if (error instanceof ItemError) return { id: null, indicator, isFailed: true, failureReason: error.message };
      throw error;
    }
  });
  return {
    status: 200,
    body: { '@odata.context': `${call.req.baseUrl}/api/$metadata#Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)`, value },
  };
}

export function listIndicators(call: DefenderCall): SimResponse {
  const query = parseCollectionQuery(call.req, {
    properties: INDICATOR_FILTER_PROPERTIES,
    dateProperties: ['expirationTime', 'creationTimeDateTimeUtc'],
  });
  const rows = visible(call).map(indicatorBody).filter(query.filter);
  return { status: 200, body: collectionPage(call.req, 'Indicators', rows, query) };
}

export function deleteIndicator(call: DefenderCall): SimResponse {
  const id = call.req.params.id;
  if (!/^\d+$/.test(id)) throw mdeError(call.req, 400, 'InvalidInput', `Indicator id ${id} is not valid`);
  const state = stateOf(call.tenant);
  const mine = visible(call);
  const index = state.indicators.findIndex((i) => i.id === id && mine.includes(i));
  if (index < 0) throw indicatorNotFound(call.req, id);
  state.indicators.splice(index, 1);
  return { status: 204 };
}

const indicatorNotFound = (req: SimRequest, id: string) => resourceNotFound(req, `Indicator ${id}`);
