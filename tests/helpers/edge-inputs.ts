// Edge inputs from a zod schema: the largest values it allows (every optional field present, every
// number at its maximum, every string and list at its longest), the smallest, and the variants
// one field away from the largest (each enum value, each union option, one field at its minimum),
// so that a refinement the JSON Schema cannot express (rpsTo > rpsFrom) still leaves candidates
// that pass. Read from the schema's JSON Schema (zod's own z.toJSONSchema, input side); only the
// candidates the zod schema itself accepts are returned, the largest first.
import fc from "fast-check";
import { z } from "zod";

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
};

/** An unbounded string or list is taken this long: far past anything the console sends. */
const UNBOUNDED_LENGTH = 2_000;
/** Variants kept per schema node, so that nesting cannot multiply them without bound. */
const MAX_VARIANTS = 24;

type Mode = "max" | "min";

/** Pattern samples differ from call to call, so two candidates seldom name the same thing. */
let patternCalls = 0;

/** The value at one edge; `index` makes list elements and names differ from each other. */
function edge(schema: JsonSchema, mode: Mode, key: string, index: number): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return mode === "max" ? schema.enum.at(-1) : schema.enum[0];
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const usable = options.filter((o) => o.type !== "null");
    if (mode === "min" && usable.length < options.length) return null;
    return edge(usable[0] ?? options[0]!, mode, key, index);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return mode === "max";
    case "integer":
    case "number":
      return numberAt(schema, mode, type === "integer");
    case "string":
      return stringAt(schema, mode, key, index);
    case "array": {
      const count = mode === "max" ? (schema.maxItems ?? 50) : (schema.minItems ?? 0);
      return Array.from({ length: count }, (_, i) => edge(schema.items ?? {}, mode, key, index * 1_000 + i));
    }
    case "object": {
      const value: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        const required = schema.required?.includes(name) ?? false;
        if (mode === "min" && !required) continue;
        value[name] = edge(property, mode, name, index);
      }
      if (mode === "max" && typeof schema.additionalProperties === "object" && schema.propertyNames) {
        value[stringAt(schema.propertyNames, "max", "name", index)] = edge(schema.additionalProperties, "max", "value", index);
      }
      return value;
    }
    default:
      return mode === "max" ? {} : null;
  }
}

function numberAt(schema: JsonSchema, mode: Mode, integer: boolean): number {
  const step = schema.multipleOf ?? (integer ? 1 : 0);
  if (mode === "max") {
    let value =
      schema.maximum ??
      (schema.exclusiveMaximum !== undefined
        ? schema.exclusiveMaximum - (integer ? 1 : Number.EPSILON)
        : integer
          ? Number.MAX_SAFE_INTEGER
          : Number.MAX_VALUE);
    if (step) value = Math.floor(value / step) * step;
    return value;
  }
  let value =
    schema.minimum ??
    (schema.exclusiveMinimum !== undefined
      ? schema.exclusiveMinimum + (integer ? 1 : Number.MIN_VALUE)
      : integer
        ? Number.MIN_SAFE_INTEGER
        : -Number.MAX_VALUE);
  if (step) value = Math.ceil(value / step) * step;
  return value;
}

function stringAt(schema: JsonSchema, mode: Mode, key: string, index: number): string {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? UNBOUNDED_LENGTH;
  const length = mode === "max" ? max : Math.max(min, 1);
  if (schema.format === "uuid")
    return mode === "max" ? "ffffffff-ffff-ffff-ffff-ffffffffffff" : "00000000-0000-0000-0000-000000000000";
  // Loopback, and a port where nothing listens: a route that reaches out gets an answer at once.
  if (schema.format === "uri") return `http://127.0.0.1:9/${"a".repeat(Math.max(0, Math.min(length, 2_000) - 19))}`;
  if (schema.format === "email" || /email/i.test(key)) return `edge-${mode}-${index}@example.test`;
  if (schema.pattern) {
    const samples = fc
      .sample(fc.stringMatching(new RegExp(schema.pattern)), { seed: index + ++patternCalls, numRuns: 200 })
      .filter((s) => s.length >= min && s.length <= max);
    if (samples.length === 0) return "";
    return samples.reduce((best, s) => ((mode === "max" ? s.length > best.length : s.length < best.length) ? s : best));
  }
  const tag = `${mode}${index}-`;
  return (tag + "x".repeat(length)).slice(0, length);
}

/** The node's largest value, its smallest, and the largest with one part changed. */
function variants(schema: JsonSchema, key: string): unknown[] {
  const largest = edge(schema, "max", key, 0);
  const out: unknown[] = [largest, edge(schema, "min", key, 0)];
  if (schema.enum) out.push(...schema.enum);
  for (const option of schema.anyOf ?? schema.oneOf ?? []) out.push(...variants(option, key));
  if (schema.type === "object" && schema.properties && largest && typeof largest === "object") {
    for (const [name, property] of Object.entries(schema.properties)) {
      if (!(schema.required?.includes(name) ?? false)) {
        const { [name]: _left, ...without } = largest as Record<string, unknown>;
        out.push(without);
      }
      for (const v of variants(property, name).slice(1)) out.push({ ...largest, [name]: v });
    }
  }
  if (schema.type === "array" && schema.items && Array.isArray(largest)) {
    // The longest list of each element variant, each element told apart by its index.
    for (const v of variants(schema.items, key).slice(1)) out.push(largest.map((_, i) => distinct(v, i)));
  }
  const seen = new Set<string>();
  return out.filter((v) => !seen.has(JSON.stringify(v)) && seen.add(JSON.stringify(v))).slice(0, MAX_VARIANTS);
}

/** A copy of a list element whose generated names differ from its neighbours'. */
function distinct(value: unknown, index: number): unknown {
  // Same length: a string at its maximum stays there.
  return JSON.parse(JSON.stringify(value), (_, v) =>
    typeof v === "string" && /^(max|min)0-/.test(v) ? v.replace(/^(max|min)0-/, `$1${index}-`).slice(0, v.length) : v,
  );
}

/** The schema's edge candidates that the schema itself accepts, the largest (longest as JSON) first. */
export function edgeInputs(schema: z.ZodType): unknown[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const size = (value: unknown) => JSON.stringify(value)?.length ?? 0;
  return variants(json, "")
    .filter((value) => schema.safeParse(value).success)
    .sort((a, b) => size(b) - size(a));
}

/** Query-string edge candidates: the same, written as a URL's query (numbers and booleans as text). */
export function edgeQueries(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return variants(json, "")
    .filter((value): value is Record<string, unknown> => !!value && typeof value === "object")
    .map((value) =>
      Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== null && typeof v !== "object")
          .map(([k, v]) => [k, String(v)]),
      ),
    )
    .filter((value) => schema.safeParse(value).success)
    .map((value) => `?${new URLSearchParams(value).toString()}`);
}
