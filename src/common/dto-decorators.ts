import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDate, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';

/**
 * Composite field decorators: each applies the class-validator rules and the OpenAPI description of
 * one kind of field, so the two cannot drift apart.
 */
export interface FieldOptions {
  /** May be left out (`IsOptional`, and not `required` in OpenAPI). */
  optional?: boolean;
  description?: string;
  example?: unknown;
}

type Schema = Record<string, unknown>;

function field(options: FieldOptions, schema: Schema, ...rules: PropertyDecorator[]): PropertyDecorator {
  const documented = {
    ...schema,
    ...(options.description ? { description: options.description } : {}),
    ...(options.example !== undefined ? { example: options.example } : {}),
  };
  return options.optional ? applyDecorators(ApiPropertyOptional(documented), IsOptional(), ...rules) : applyDecorators(ApiProperty(documented), ...rules);
}

/** A UUID (path parameter or filter); `$property must be a UUID` otherwise. */
export function UuidParam(options: FieldOptions = {}): PropertyDecorator {
  return field(options, { type: String, format: 'uuid' }, IsUUID('all'));
}

/** Longest date-time text taken in: RFC 3339 with nanoseconds and an offset fits in 35 characters. */
export const DATE_TIME_MAX_LENGTH = 64;

/** A date-time text ⇒ a Date (Invalid Date when it is too long to be one, so `IsDate` refuses it). */
function toDate({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  return value.length <= DATE_TIME_MAX_LENGTH ? new Date(value) : new Date(Number.NaN);
}

/**
 * An RFC 3339 date-time, at most 64 characters. `as: 'date'` (the default) hands the DTO a Date;
 * `as: 'text'` keeps the caller's text, checked as strict ISO 8601.
 */
export function DateTime(options: FieldOptions & { as?: 'date' | 'text' } = {}): PropertyDecorator {
  const schema = { type: String, format: 'date-time', maxLength: DATE_TIME_MAX_LENGTH };
  if (options.as === 'text') return field(options, schema, IsISO8601({ strict: true }), MaxLength(DATE_TIME_MAX_LENGTH));
  return field(options, schema, Transform(toDate), IsDate({ message: ({ property }) => `${property} must be an RFC 3339 date-time` }));
}

/** A date-time query filter: `DateTime`, optional. */
export function DateTimeQuery(options: Omit<FieldOptions, 'optional'> & { as?: 'date' | 'text' } = {}): PropertyDecorator {
  return DateTime({ ...options, optional: true });
}

export interface TextOptions extends FieldOptions {
  /** Shortest length (default 1). */
  min?: number;
  /** A pattern the text must match, and the message when it does not. */
  pattern?: RegExp;
  message?: string;
  /** The field is an array of such texts (the array's own rules are the caller's). */
  each?: boolean;
  writeOnly?: boolean;
}

/** A string of `min`–`max` characters (documented as minLength/maxLength), optionally matching a pattern. */
export function Text(max: number, options: TextOptions = {}): PropertyDecorator {
  const min = options.min ?? 1;
  const each = options.each ?? false;
  const text: Schema = { type: 'string', minLength: min, maxLength: max, ...(options.pattern ? { pattern: options.pattern.source } : {}) };
  const schema: Schema = each ? { type: 'array', items: text } : { ...text, type: String };
  if (options.writeOnly) schema.writeOnly = true;
  const rules = [IsString({ each }), Length(min, max, { each })];
  if (options.pattern) rules.push(Matches(options.pattern, { each, ...(options.message ? { message: options.message } : {}) }));
  return field(options, schema, ...rules);
}
