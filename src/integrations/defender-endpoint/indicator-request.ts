import type { FieldError } from '../../common/problem';
import {
  DEPRECATED_ACTIONS,
  expiryOf,
  INDICATOR_ACTIONS,
  INDICATOR_SEVERITIES,
  INDICATOR_TYPES,
  normaliseIndicatorValue,
  type IndicatorType,
} from './indicator-values';

/** One indicator as Cordon records it in the action's parameters: checked, normalised, its expiry fixed. */
export interface IndicatorSpec {
  type: IndicatorType;
  value: string;
  action: string;
  severity?: string;
  title: string;
  description?: string;
  expiresAt: string;
  generateAlert?: boolean;
}

const KNOWN_FIELDS = new Set(['type', 'value', 'action', 'severity', 'title', 'description', 'expiresAt', 'generateAlert']);

const isText = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;

/**
 * Checks one indicator (a submission body, or an import item under `prefix` such as `indicators[3].`)
 * and normalises it; every problem names its field. `strictFields` refuses fields outside an indicator
 * (import items: the DTO does that for a submission).
 */
export function checkIndicator(raw: Record<string, unknown>, prefix: string, nowMs: number, strictFields = false): IndicatorSpec | FieldError[] {
  const errors: FieldError[] = [];
  const err = (field: string, message: string) => errors.push({ field: `${prefix}${field}`, message });
  if (strictFields) for (const key of Object.keys(raw)) if (!KNOWN_FIELDS.has(key)) err(key, 'is not a known field');

  const type = raw.type;
  const typeOk = typeof type === 'string' && (INDICATOR_TYPES as readonly string[]).includes(type);
  if (!typeOk) err('type', `must be one of ${INDICATOR_TYPES.join(', ')}`);
  let value: string | undefined;
  if (typeof raw.value !== 'string' || raw.value.length > 2048) err('value', 'must be a text of at most 2048 characters');
  else if (typeOk) {
    const checked = normaliseIndicatorValue(type as IndicatorType, raw.value);
    if ('problem' in checked) err('value', `${checked.problem}`);
    else value = checked.value;
  }

  const action = raw.action;
  if (typeof action === 'string' && DEPRECATED_ACTIONS[action]) {
    err('action', `${action} is retired by Microsoft; use ${DEPRECATED_ACTIONS[action]}`);
  } else if (typeof action !== 'string' || !(INDICATOR_ACTIONS as readonly string[]).includes(action)) {
    err('action', `must be one of ${INDICATOR_ACTIONS.join(', ')}`);
  }
  if (raw.generateAlert !== undefined && typeof raw.generateAlert !== 'boolean') err('generateAlert', 'must be a boolean');
  if (action === 'Audit' && raw.generateAlert !== true) err('generateAlert', 'must be true for an Audit indicator (Defender requires it)');
  if (raw.severity !== undefined && !(INDICATOR_SEVERITIES as readonly unknown[]).includes(raw.severity)) {
    err('severity', `must be one of ${INDICATOR_SEVERITIES.join(', ')}`);
  }
  if (!isText(raw.title, 300)) err('title', 'must be a text of 1 to 300 characters');
  if (raw.description !== undefined && !isText(raw.description, 4000)) err('description', 'must be a text of 1 to 4000 characters');
  let expiresAt: string | undefined;
  if (raw.expiresAt !== undefined && typeof raw.expiresAt !== 'string') err('expiresAt', 'must be an ISO 8601 date-time');
  else {
    const expiry = expiryOf(raw.expiresAt as string | undefined, nowMs);
    if ('problem' in expiry) err('expiresAt', expiry.problem);
    else expiresAt = expiry.expirationTime;
  }
  if (errors.length > 0) return errors;
  return {
    type: type as IndicatorType,
    value: value!,
    action: action as string,
    ...(raw.severity !== undefined ? { severity: raw.severity as string } : {}),
    title: raw.title as string,
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    expiresAt: expiresAt!,
    ...(raw.generateAlert !== undefined ? { generateAlert: raw.generateAlert as boolean } : {}),
  };
}

/** The target a submission names: `type:value` (the type has no colon). */
export const indicatorRequested = (spec: Pick<IndicatorSpec, 'type' | 'value'>) => `${spec.type}:${spec.value}`;

export function parseRequested(requested: string): { type: string; value: string } {
  const at = requested.indexOf(':');
  return { type: requested.slice(0, at), value: requested.slice(at + 1) };
}

/** The body of `POST /api/indicators` (and of each import item), camelCase (microsoft-notes M44). */
export function defenderIndicatorBody(spec: IndicatorSpec, reason: string): Record<string, unknown> {
  return {
    indicatorValue: spec.value,
    indicatorType: spec.type,
    action: spec.action,
    title: spec.title,
    // Defender requires a description: the request's reason stands in when none was given.
    description: spec.description ?? reason,
    expirationTime: spec.expiresAt,
    severity: spec.severity ?? 'Informational',
    application: 'Cordon',
    ...(spec.generateAlert !== undefined ? { generateAlert: spec.generateAlert } : {}),
  };
}
