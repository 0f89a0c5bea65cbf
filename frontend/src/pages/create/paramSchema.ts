/**
 * A strategy's parameter form, built from the JSON schema `GET /api/strategies`
 * gives (pydantic's `model_json_schema()`): integers, numbers, booleans,
 * enums and strings with their defaults and bounds.
 */

export type ParamKind = 'integer' | 'number' | 'boolean' | 'enum' | 'string';
export type ParamValue = string | number | boolean;

export interface ParamField {
  name: string;
  label: string;
  description: string;
  kind: ParamKind;
  required: boolean;
  default: ParamValue | undefined;
  options: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** The form's values: the text typed for numbers, the choice for enums, a boolean for booleans. */
export type ParamValues = Record<string, string | boolean>;

interface JsonSchemaProperty {
  type?: unknown;
  enum?: unknown;
  default?: unknown;
  title?: unknown;
  description?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  exclusiveMinimum?: unknown;
  exclusiveMaximum?: unknown;
  anyOf?: unknown;
  allOf?: unknown;
  $ref?: unknown;
}

interface JsonSchema {
  properties?: Record<string, JsonSchemaProperty>;
  required?: unknown;
  $defs?: Record<string, JsonSchemaProperty>;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function resolve(prop: JsonSchemaProperty, defs: Record<string, JsonSchemaProperty>): JsonSchemaProperty {
  // pydantic puts Literal/Enum types in $defs and refers to them (directly or through allOf).
  const refOf = (p: JsonSchemaProperty): string | undefined =>
    typeof p.$ref === 'string'
      ? p.$ref
      : Array.isArray(p.allOf) && p.allOf.length === 1
        ? (p.allOf[0] as JsonSchemaProperty).$ref as string | undefined
        : undefined;
  const ref = refOf(prop);
  if (ref === undefined) return prop;
  const target = defs[ref.replace('#/$defs/', '')];
  return target ? { ...target, ...prop, $ref: undefined, allOf: undefined } : prop;
}

function kindOf(prop: JsonSchemaProperty): ParamKind {
  if (Array.isArray(prop.enum)) return 'enum';
  const types = Array.isArray(prop.anyOf)
    ? (prop.anyOf as JsonSchemaProperty[]).map((p) => p.type)
    : [prop.type];
  if (types.includes('integer')) return 'integer';
  if (types.includes('number')) return 'number';
  if (types.includes('boolean')) return 'boolean';
  return 'string';
}

function titleOf(name: string): string {
  return name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The form fields of a strategy's parameter schema, in the schema's order. */
export function paramFields(schema: unknown): ParamField[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const s = schema as JsonSchema;
  const defs = s.$defs ?? {};
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  return Object.entries(s.properties ?? {}).map(([name, raw]) => {
    const prop = resolve(raw, defs);
    const kind = kindOf(prop);
    const dflt = prop.default;
    return {
      name,
      label: typeof prop.title === 'string' ? prop.title : titleOf(name),
      description: typeof prop.description === 'string' ? prop.description : '',
      kind,
      required: required.includes(name),
      default:
        typeof dflt === 'string' || typeof dflt === 'number' || typeof dflt === 'boolean' ? dflt : undefined,
      options: kind === 'enum' ? (prop.enum as unknown[]).map(String) : [],
      minimum: num(prop.minimum),
      maximum: num(prop.maximum),
      exclusiveMinimum: num(prop.exclusiveMinimum),
      exclusiveMaximum: num(prop.exclusiveMaximum),
    };
  });
}

/** The form's starting values: each parameter's default (empty when it has none). */
export function initialValues(fields: readonly ParamField[]): ParamValues {
  const values: ParamValues = {};
  for (const field of fields) {
    if (field.kind === 'boolean') values[field.name] = field.default === true;
    else if (field.kind === 'enum') values[field.name] = String(field.default ?? field.options[0] ?? '');
    else values[field.name] = field.default === undefined ? '' : String(field.default);
  }
  return values;
}

/** A short text of a numeric field's bounds, e.g. "≥ 1", "> 0, < 100"; empty without bounds. */
export function boundsText(field: ParamField): string {
  const parts: string[] = [];
  if (field.minimum !== undefined) parts.push(`≥ ${field.minimum}`);
  else if (field.exclusiveMinimum !== undefined) parts.push(`> ${field.exclusiveMinimum}`);
  if (field.maximum !== undefined) parts.push(`≤ ${field.maximum}`);
  else if (field.exclusiveMaximum !== undefined) parts.push(`< ${field.exclusiveMaximum}`);
  return parts.join(', ');
}

/** The error of one value, or null when it is valid. */
export function validateParam(field: ParamField, value: string | boolean | undefined): string | null {
  if (field.kind === 'boolean') return null;
  const text = typeof value === 'string' ? value.trim() : '';
  if (field.kind === 'enum') {
    return field.options.includes(text) ? null : `choose one of ${field.options.join(', ')}`;
  }
  if (text === '') return field.required && field.default === undefined ? 'required' : null;
  if (field.kind === 'string') return null;
  const n = Number(text);
  if (!Number.isFinite(n)) return 'must be a number';
  if (field.kind === 'integer' && !Number.isInteger(n)) return 'must be a whole number';
  if (field.minimum !== undefined && n < field.minimum) return `must be at least ${field.minimum}`;
  if (field.maximum !== undefined && n > field.maximum) return `must be at most ${field.maximum}`;
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) {
    return `must be greater than ${field.exclusiveMinimum}`;
  }
  if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum) {
    return `must be less than ${field.exclusiveMaximum}`;
  }
  return null;
}

/** Errors by parameter name (only the invalid ones). */
export function validateParams(fields: readonly ParamField[], values: ParamValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const error = validateParam(field, values[field.name]);
    if (error) errors[field.name] = error;
  }
  return errors;
}

/**
 * The `strategy_config` to send: every parameter with a value, converted to
 * its type (numbers as numbers). Empty values are left out so the server
 * applies the default.
 */
export function strategyConfig(fields: readonly ParamField[], values: ParamValues): Record<string, ParamValue> {
  const config: Record<string, ParamValue> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === 'boolean') {
      config[field.name] = value === true;
      continue;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') continue;
    config[field.name] = field.kind === 'integer' || field.kind === 'number' ? Number(text) : text;
  }
  return config;
}
