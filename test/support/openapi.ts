/**
 * Validate Twilio API responses against Twilio's official OpenAPI specs (twilio-oai).
 *
 * The specs are the project's own pinned copy in `test/twilio-oai/` (see its README.md for the
 * upstream commit and `scripts/refresh-twilio-oai.sh`), loaded lazily, once per spec, the first
 * time a response for that host is checked.
 *
 * On top of plain OpenAPI 3.0 semantics the validator is deliberately stricter in one way: every
 * property an object schema declares must be present, because Twilio always serialises absent
 * values as `null` rather than omitting the key. A response that drops a key is a shape bug.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

export interface ResponseCheck {
  ok: boolean;
  operation: string | null;
  errors: string[];
}

type Json = Record<string, unknown>;

interface SpecFile {
  file: string;
  /** `$id` under which the spec's components are registered with ajv. */
  id: string;
  /**
   * api.twilio.com (2010) returns `uri`, `first_page_uri`, `next_page_uri`, … as paths relative to
   * the host (the spec's descriptions say so) although the schema marks some of them
   * `format: uri`, which per JSON Schema means an absolute URI with a scheme.
   */
  relativeUriProps: boolean;
}

/** What the schema transform needs to know about the spec a schema comes from. */
type SchemaContext = Pick<SpecFile, 'id' | 'relativeUriProps'>;

interface LoadedSpec {
  paths: Json;
  ajv: Ajv;
  templates: PathTemplate[];
  id: string;
  relativeUriProps: boolean;
}

interface PathTemplate {
  template: string;
  regex: RegExp;
  params: number;
  literalLength: number;
}

export const SPEC_DIR = new URL('../twilio-oai/', import.meta.url);

const SPECS_BY_HOST: Record<string, SpecFile> = {
  'api.twilio.com': {
    file: 'twilio_api_v2010.json',
    id: 'urn:twilio-oai:api_v2010',
    relativeUriProps: true,
  },
  'messaging.twilio.com': {
    file: 'twilio_messaging_v1.json',
    id: 'urn:twilio-oai:messaging_v1',
    relativeUriProps: false,
  },
  'bulkexports.twilio.com': {
    file: 'twilio_bulkexports_v1.json',
    id: 'urn:twilio-oai:bulkexports_v1',
    relativeUriProps: false,
  },
  'accounts.twilio.com': {
    file: 'twilio_accounts_v1.json',
    id: 'urn:twilio-oai:accounts_v1',
    relativeUriProps: false,
  },
};

/** RFC 2822 as Twilio emits it: `Thu, 30 Jul 2015 20:00:00 +0000`. */
const RFC_2822 =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:0?[1-9]|[12]\d|3[01]) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d [+-]\d{4}$/;

/** Host-relative URI path, e.g. `/2010-04-01/Accounts/AC…/Messages.json?Page=1`. */
const RELATIVE_URI = /^\/[^\s]*$/;
const RELATIVE_URI_FORMAT = 'twilio-relative-uri';

/**
 * Twilio-specific formats that carry no checkable meaning for us. Registered as always-valid so
 * ajv doesn't throw on them. Any other format found in a spec that neither ajv-formats nor this
 * module knows is registered the same way (see `registerFormats`).
 */
const PERMISSIVE_FORMATS = [
  'uri-map',
  'phone-number',
  'phone-number-capabilities',
  'http-method',
  'currency',
  'sid',
  'iso-country-code',
  'ice-server',
  'endpoint',
  'twiml',
];

/** Keywords that only annotate; a schema made only of these accepts any value. */
const ANNOTATIONS = new Set(['description', 'title', 'default', 'deprecated', 'readOnly']);

const loaded = new Map<string, LoadedSpec>();
const validators = new Map<string, ValidateFunction>();

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadSpec(host: string): LoadedSpec | null {
  const cached = loaded.get(host);
  if (cached) return cached;
  const def = SPECS_BY_HOST[host];
  if (!def) return null;

  const raw: unknown = JSON.parse(readFileSync(new URL(def.file, SPEC_DIR), 'utf8'));
  if (!isObject(raw) || !isObject(raw.paths)) {
    throw new Error(`${def.file}: not an OpenAPI document (no "paths")`);
  }
  const components = isObject(raw.components) ? raw.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};

  const ajv = new Ajv({ allErrors: true, strict: false });
  registerFormats(ajv, raw);
  const transformed: Json = {};
  for (const [name, schema] of Object.entries(schemas)) {
    transformed[name] = transformSchema(schema, def);
  }
  ajv.addSchema({ $id: def.id, components: { schemas: transformed } });

  const spec: LoadedSpec = {
    paths: raw.paths,
    ajv,
    templates: Object.keys(raw.paths).map(compileTemplate),
    id: def.id,
    relativeUriProps: def.relativeUriProps,
  };
  loaded.set(host, spec);
  return spec;
}

function registerFormats(ajv: Ajv, spec: Json): void {
  ajvFormats.default(ajv);
  ajv.addFormat('date-time-rfc-2822', RFC_2822);
  ajv.addFormat(RELATIVE_URI_FORMAT, RELATIVE_URI);
  for (const name of PERMISSIVE_FORMATS) ajv.addFormat(name, () => true);
  for (const name of collectFormats(spec)) {
    if (ajv.formats[name] === undefined) ajv.addFormat(name, () => true);
  }
}

function collectFormats(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) collectFormats(item, found);
  } else if (isObject(node)) {
    if (typeof node.format === 'string') found.add(node.format);
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'example' && key !== 'examples') collectFormats(value, found);
    }
  }
  return found;
}

/**
 * Turn an OpenAPI 3.0 schema into a JSON Schema (draft-07) ajv compiles the way we want:
 * - `$ref: '#/components/schemas/X'` points at the components registered under the spec's `$id`;
 * - every object schema with `properties` requires all of them;
 * - `nullable: true` works also without `type` and next to `$ref`/combinators (ajv's built-in
 *   `nullable` support only handles it next to `type`, and throws otherwise);
 * - `oneOf` becomes `anyOf` (Twilio's alternatives overlap, see below);
 * - vendor extensions (`x-…`) and examples are dropped.
 */
function transformSchema(schema: unknown, spec: SchemaContext, propName?: string): unknown {
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'example' || key === 'examples') continue;
    switch (key) {
      case '$ref':
        out.$ref = typeof value === 'string' && value.startsWith('#') ? spec.id + value : value;
        break;
      case 'properties':
        if (isObject(value)) {
          const props: Json = {};
          for (const [name, sub] of Object.entries(value)) {
            props[name] = transformSchema(sub, spec, name);
          }
          out.properties = props;
        } else {
          out.properties = value;
        }
        break;
      case 'items':
      case 'additionalProperties':
      case 'not':
        out[key] = transformSchema(value, spec);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf': {
        const list = Array.isArray(value) ? value.map((s) => transformSchema(s, spec)) : value;
        // Twilio uses `oneOf` for versions of a resource whose properties are supersets of each
        // other (messaging us_app_to_person vs _v2); with no additionalProperties a complete v2
        // body also satisfies v1, and `oneOf` would then reject it. `anyOf` is the intent.
        const target = key === 'oneOf' ? 'anyOf' : key;
        if (out[target] === undefined) {
          out[target] = list;
        } else {
          out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), { [target]: list }];
        }
        break;
      }
      default:
        out[key] = value;
    }
  }

  if (isObject(out.properties)) {
    const declared = Object.keys(out.properties);
    const required = Array.isArray(out.required) ? out.required : [];
    out.required = [...new Set([...required, ...declared])];
  }

  if (
    spec.relativeUriProps &&
    out.format === 'uri' &&
    propName !== undefined &&
    (propName === 'uri' || propName.endsWith('_uri'))
  ) {
    out.format = RELATIVE_URI_FORMAT;
  }

  if (out.nullable === true) {
    const native =
      typeof out.type === 'string' &&
      out.$ref === undefined &&
      out.allOf === undefined &&
      out.anyOf === undefined;
    if (native) {
      // ajv's `nullable` adds null to `type`, but `enum` is checked separately.
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    delete out.nullable;
    if (Object.keys(out).every((k) => ANNOTATIONS.has(k))) return out; // accepts anything
    return { if: { type: 'null' }, else: out };
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileTemplate(template: string): PathTemplate {
  let pattern = '';
  let params = 0;
  let literalLength = 0;
  for (const part of template.split(/(\{[^}]+\})/)) {
    if (part.startsWith('{') && part.endsWith('}')) {
      pattern += '([^/]+)';
      params += 1;
    } else {
      pattern += escapeRegex(part);
      literalLength += part.length;
    }
  }
  return { template, regex: new RegExp(`^${pattern}$`), params, literalLength };
}

/** The most specific template matching `path`: fewest parameters, then most literal text. */
function matchTemplate(spec: LoadedSpec, path: string): string | null {
  let best: PathTemplate | null = null;
  for (const t of spec.templates) {
    if (!t.regex.test(path)) continue;
    if (
      best === null ||
      t.params < best.params ||
      (t.params === best.params && t.literalLength > best.literalLength)
    ) {
      best = t;
    }
  }
  return best?.template ?? null;
}

function formatError(error: ErrorObject): string {
  let message = error.message ?? `failed keyword "${error.keyword}"`;
  if (error.keyword === 'enum' && isObject(error.params)) {
    const allowed = error.params.allowedValues;
    if (Array.isArray(allowed)) message += `: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return error.instancePath ? `${error.instancePath} ${message}` : message;
}

function fail(operation: string | null, ...errors: string[]): ResponseCheck {
  return { ok: false, operation, errors };
}

/**
 * Check a Twilio API response against the official OpenAPI spec for its host.
 *
 * @param method HTTP method, e.g. `'GET'`
 * @param url absolute request URL; the query string is ignored
 * @param status HTTP status of the response
 * @param body parsed JSON body (`undefined`/`null`/`''` for responses without content)
 */
export function checkResponse(
  method: string,
  url: string,
  status: number,
  body: unknown,
): ResponseCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(null, `not an absolute URL: ${url}`);
  }
  const spec = loadSpec(parsed.hostname.toLowerCase());
  if (!spec) return fail(null, `no Twilio OpenAPI spec for host ${parsed.hostname}`);

  const template = matchTemplate(spec, parsed.pathname);
  if (template === null) {
    return fail(null, `no path in the spec for ${parsed.hostname} matches ${parsed.pathname}`);
  }
  const verb = method.toUpperCase();
  const pathItem = spec.paths[template];
  const op = isObject(pathItem) ? pathItem[method.toLowerCase()] : undefined;
  if (!isObject(op)) return fail(null, `the spec has no ${verb} operation for ${template}`);
  const responses = isObject(op.responses) ? op.responses : {};
  const response = responses[String(status)];
  if (!isObject(response)) {
    const known = Object.keys(responses).join(', ') || 'none';
    return fail(
      null,
      `the spec has no ${status} response for ${verb} ${template} (documented: ${known})`,
    );
  }

  const operation = `${verb} ${template} ${status}`;
  if (!isObject(response.content)) {
    // e.g. 204 No Content
    const empty = body === undefined || body === null || body === '';
    return empty
      ? { ok: true, operation, errors: [] }
      : fail(operation, 'the spec declares no body for this response, but one was returned');
  }
  const media = response.content['application/json'];
  if (!isObject(media) || media.schema === undefined) {
    return fail(operation, 'the spec declares no application/json schema for this response');
  }

  const key = `${spec.id} ${operation}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = spec.ajv.compile(transformSchema(media.schema, spec) as Json);
    validators.set(key, validate);
  }
  if (validate(body)) return { ok: true, operation, errors: [] };
  // Errors of the `if` in a nullable wrapper only repeat that the non-null branch failed.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(formatError);
  return fail(operation, ...(errors.length > 0 ? errors : ['invalid (no details from ajv)']));
}

/** For tests: throw an Error listing every mismatch if the response doesn't match the spec. */
export function expectValidResponse(
  method: string,
  url: string,
  status: number,
  body: unknown,
): void {
  const result = checkResponse(method, url, status, body);
  if (result.ok) return;
  const where = result.operation ?? `${method.toUpperCase()} ${url} ${status}`;
  throw new Error(
    `response does not match the Twilio OpenAPI spec (${where}):\n` +
      result.errors.map((e) => `  - ${e}`).join('\n'),
  );
}
