/**
 * Open311 GeoReport v2 wire formats: the XML (required by the specification) and its JSON twin (Spark
 * convention: the same fields, the root element becomes an array or object), form-encoded request bodies and
 * the specification's error list.
 */

export type Open311Format = 'json' | 'xml';

/** A value of a GeoReport document: text, numbers, booleans, null (an empty element), lists and records. */
export type Open311Value =
  string | number | boolean | null | Open311Value[] | { [key: string]: Open311Value };
export type Open311Record = { [key: string]: Open311Value };

/** The element name of one entry of a list element (`<services><service>…`). */
const itemTags: Record<string, string> = {
  services: 'service',
  service_requests: 'request',
  attributes: 'attribute',
  values: 'value',
  endpoints: 'endpoint',
  formats: 'format',
  errors: 'error',
  service_request_updates: 'request_update',
};

export function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      // Characters XML 1.0 cannot carry at all.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
  );
}

function element(tag: string, value: Open311Value): string {
  if (value === null || value === '') return `<${tag}/>`;
  if (Array.isArray(value)) {
    const itemTag = itemTags[tag] ?? 'item';
    return `<${tag}>${value.map((item) => element(itemTag, item)).join('')}</${tag}>`;
  }
  if (typeof value === 'object')
    return `<${tag}>${Object.entries(value)
      .map(([key, child]) => element(key, child))
      .join('')}</${tag}>`;
  return `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

/** `<?xml …?>` and the root element: a list root (`services`, `service_requests`, `errors`…) or a record. */
export function toXml(root: string, value: Open311Value): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, value)}\n`;
}

export const contentTypes: Record<Open311Format, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'text/xml; charset=utf-8',
};

/** The document in the asked format. */
export function render(format: Open311Format, root: string, value: Open311Value): string {
  return format === 'xml' ? toXml(root, value) : JSON.stringify(value);
}

/** `services.json` → `{ name: 'services', format: 'json' }`; undefined without a known format suffix. */
export function splitFormat(file: string): { name: string; format: Open311Format } | undefined {
  const match = /^(.+)\.(json|xml)$/.exec(file);
  return match ? { name: match[1]!, format: match[2] as Open311Format } : undefined;
}

/** The format an error answer uses: the suffix of the path; undefined without one (not an Open311 resource). */
export function formatOfUrl(url: string): Open311Format | undefined {
  const path = url.split('?')[0] ?? '';
  return path.endsWith('.xml') ? 'xml' : path.endsWith('.json') ? 'json' : undefined;
}

/** One error of the specification's list; the HTTP status is `status`, `code` in the body the same. */
export type Open311Error = { code: number; description: string };

/** Thrown by Open311 use-cases; the route answers `status` with the list. */
export class Open311Failure extends Error {
  constructor(
    readonly status: 400 | 403 | 404,
    readonly errors: Open311Error[],
  ) {
    super(errors.map((e) => e.description).join('; '));
  }
}

export const open311Error = (status: 400 | 403 | 404, description: string): Open311Failure =>
  new Open311Failure(status, [{ code: status, description }]);

/** Form body: every key with all its values in order (repeated keys and `key[]` keep every value). */
export type FormFields = Map<string, string[]>;

export function parseForm(body: string): FormFields {
  const fields: FormFields = new Map();
  for (const [key, value] of new URLSearchParams(body)) {
    const list = fields.get(key);
    if (list) list.push(value);
    else fields.set(key, [value]);
  }
  return fields;
}

/**
 * A single value: the first non-empty one. "Optional" in the specification: an empty parameter is the same as
 * one not sent.
 */
export function field(fields: FormFields | Record<string, unknown>, name: string): string | undefined {
  const raw = fields instanceof Map ? fields.get(name) : fields[name];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  for (const value of values) if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

/** `attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`: code → values (and whether a list). */
export function attributesOf(fields: FormFields): Map<string, { values: string[]; list: boolean }> {
  const attributes = new Map<string, { values: string[]; list: boolean }>();
  for (const [key, values] of fields) {
    const match = /^attribute\[([^\]]+)\](\[\])?$/.exec(key);
    if (!match) continue;
    const code = match[1]!;
    const entry = attributes.get(code) ?? { values: [], list: false };
    entry.values.push(...values.filter((v) => v !== ''));
    entry.list = entry.list || match[2] !== undefined || values.length > 1;
    attributes.set(code, entry);
  }
  return attributes;
}

/** W3C date-time with a timezone (Z or ±HH:MM), as the specification asks. */
export function parseW3cDateTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `2026-11-20T02:00:00Z`: whole seconds, UTC. */
export function w3c(value: Date | string | null): string | null {
  if (value === null) return null;
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
