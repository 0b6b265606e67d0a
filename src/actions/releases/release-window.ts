import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, registerDecorator, ValidationArguments } from 'class-validator';
import { DATE_TIME_MAX_LENGTH } from '../../common/dto-decorators';
import { ActionRequestDto } from '../dto/action.dto';

/**
 * When a time-boxed containment is released: `releaseAfter` (an ISO-8601 duration, counted from the
 * action's success) or `releaseAt` (a date-time), between one minute and 30 days away. One of the two,
 * only on action types that declare their inverse (`ActionHandler.release`).
 */

/** The documented bounds. The minimum can be lowered for tests only (`CORDON_RELEASE_MIN_S`, at most 60). */
export const RELEASE_MAX_MS = 30 * 24 * 3600 * 1000;
const DOCUMENTED_MIN_MS = 60_000;
let minimumMs = DOCUMENTED_MIN_MS;

/** Sets the shortest release window this process accepts (from config at start). */
export function setReleaseMinimum(seconds: number): void {
  minimumMs = Math.min(DOCUMENTED_MIN_MS, Math.max(1000, seconds * 1000));
}

export function releaseMinimumMs(): number {
  return minimumMs;
}

/** Days, hours, minutes and seconds (`P1DT12H`, `PT4H`, `PT90M`, `PT30S`); weeks (`P2W`). Years and months are not fixed lengths: refused. */
const DURATION = /^P(?:(\d{1,6})W|(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,8}(?:\.\d{1,3})?)S)?)?)$/;

/** The duration in milliseconds, or null when it is not an ISO-8601 duration Cordon takes. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [, w, d, h, min, s] = m;
  if (w === undefined && d === undefined && h === undefined && min === undefined && s === undefined) return null;
  const ms = ((Number(w ?? 0) * 7 + Number(d ?? 0)) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0)) * 1000;
  return Math.round(ms);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;

const inBounds = (ms: number) => ms >= minimumMs && ms <= RELEASE_MAX_MS;
const BOUNDS = 'between PT1M and P30D';

/** What a request asked for, in the action's parameters. */
export interface ReleaseParams {
  releaseAfter?: string;
  releaseAt?: string;
}

/** When the release of an action that succeeded at `succeededAt` is due (a `releaseAt` already past is due at once). */
export function releaseDueAt(params: ReleaseParams, succeededAt: Date): Date | null {
  if (typeof params.releaseAfter === 'string') {
    const ms = parseDuration(params.releaseAfter);
    return ms === null ? null : new Date(succeededAt.getTime() + ms);
  }
  if (typeof params.releaseAt === 'string') {
    const at = Date.parse(params.releaseAt);
    return Number.isNaN(at) ? null : new Date(Math.max(at, succeededAt.getTime()));
  }
  return null;
}

/** True when the parameters ask for a release. */
export function asksForRelease(params: Record<string, unknown> | null | undefined): boolean {
  return typeof params?.releaseAfter === 'string' || typeof params?.releaseAt === 'string';
}

/** What a dry run of a containing action shows of the release it would schedule (`result.release`). */
export function releasePlan(release: { type: string } | undefined, params: Record<string, unknown>): { release?: Record<string, unknown> } {
  if (!release || !asksForRelease(params)) return {};
  const asked = params as ReleaseParams;
  const at = releaseDueAt(asked, new Date());
  return {
    release: {
      type: release.type,
      ...(asked.releaseAfter ? { releaseAfter: asked.releaseAfter } : { releaseAt: asked.releaseAt }),
      wouldBeScheduledAt: at?.toISOString() ?? null,
      note: 'scheduled when the action succeeds (releaseAfter counts from then); a failed action schedules nothing',
    },
  };
}

/** Checks one window field: syntax, bounds, and that the other field is not given too. */
function ReleaseField(kind: 'releaseAfter' | 'releaseAt'): PropertyDecorator {
  return (object, propertyName) =>
    registerDecorator({
      name: `release-window-${kind}`,
      target: object.constructor,
      propertyName: propertyName as string,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const other = (args.object as ReleaseParams)[kind === 'releaseAfter' ? 'releaseAt' : 'releaseAfter'];
          if (other !== undefined && other !== null) return false;
          if (typeof value !== 'string') return false;
          if (kind === 'releaseAfter') {
            const ms = parseDuration(value);
            return ms !== null && inBounds(ms);
          }
          if (value.length > DATE_TIME_MAX_LENGTH || !RFC3339.test(value)) return false;
          const at = Date.parse(value);
          return !Number.isNaN(at) && inBounds(at - Date.now());
        },
        defaultMessage(args: ValidationArguments) {
          const other = (args.object as ReleaseParams)[kind === 'releaseAfter' ? 'releaseAt' : 'releaseAfter'];
          if (other !== undefined && other !== null) return `${kind} and ${kind === 'releaseAfter' ? 'releaseAt' : 'releaseAfter'} cannot both be given`;
          return kind === 'releaseAfter'
            ? `releaseAfter must be an ISO-8601 duration (days, hours, minutes, seconds: PT4H, P1DT12H) ${BOUNDS}`
            : `releaseAt must be an RFC 3339 date-time ${BOUNDS} from now`;
        },
      },
    });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor<T = object> = new (...args: any[]) => T;

/**
 * Adds `releaseAfter` / `releaseAt` to an action route's body: the DTO of every containing action
 * type whose handler declares its inverse (`ActionHandler.release`). Like every body field, both are
 * part of the Idempotency-Key fingerprint.
 */
export function Timeboxed<TBase extends Constructor>(Base: TBase) {
  class TimeboxedBody extends Base {
    @ApiPropertyOptional({
      type: String,
      example: 'PT4H',
      description:
        'Release automatically this long after the action succeeds: an ISO-8601 duration between PT1M and P30D (days, hours, minutes, seconds; PT4H, P1DT12H). Not with releaseAt.',
    })
    @IsOptional()
    @IsString()
    @ReleaseField('releaseAfter')
    releaseAfter?: string;

    @ApiPropertyOptional({
      type: String,
      format: 'date-time',
      maxLength: DATE_TIME_MAX_LENGTH,
      description: 'Release automatically at this time: between one minute and 30 days from now. Not with releaseAfter.',
    })
    @IsOptional()
    @IsString()
    @ReleaseField('releaseAt')
    releaseAt?: string;
  }
  return TimeboxedBody;
}

/** The body of a containing action without parameters of its own: reason, ticket, dryRun and the release window. */
export class TimeboxedActionRequestDto extends Timeboxed(ActionRequestDto) {}
