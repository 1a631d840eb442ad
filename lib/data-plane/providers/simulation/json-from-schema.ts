// A deterministic JSON value that validates against a JSON Schema: what the simulator answers for
// tool-call arguments and `json_schema` response formats. It covers what OpenAI's structured
// outputs, zod (`z.toJSONSchema`, zod-to-json-schema) and LangChain emit: type (one or several,
// "null" included), const, enum, object (properties, required, additionalProperties,
// min/maxProperties), string (min/maxLength; formats date, date-time, time, email, uri, uuid,
// hostname, ipv4, ipv6, duration), number and integer (inclusive and exclusive bounds in either
// draft's spelling, multipleOf), boolean, array (items, prefixItems or tuple items, min/maxItems,
// uniqueItems), anyOf/oneOf (the first branch), allOf (merged), and local $ref (`#`, `#/$defs/…`,
// `#/definitions/…`, any JSON pointer into the root). `pattern`, `not`, `if/then/else`,
// `contains` and `patternProperties` are not steered towards; a value may miss them.
// Recursive schemas end: past a modest depth only required properties, minimum item counts and
// non-recursive branches are produced.
import type { Seeded } from "./seeded";

/** The schema cannot be answered: unresolvable $ref, contradictory bounds, no finite instance. */
export class UnsatisfiableSchemaError extends Error {
  override name = "UnsatisfiableSchemaError";
  constructor(
    message: string,
    /** JSON pointer of the value being generated when it failed ("#" is the root). */
    readonly at: string,
  ) {
    super(`${message} (at ${at})`);
  }
}

type Schema = Record<string, unknown>;

/** Past this depth the value is kept minimal, so recursive schemas end. */
const MINIMAL_FROM_DEPTH = 6;
/** A schema that needs deeper values than this has no finite instance worth producing. */
const MAX_DEPTH = 48;
const NUMBER_SPAN = 100;

const WORDS = (
  "alpha bravo cedar delta ember falcon garnet harbor indigo juniper kestrel lumen meadow nectar " +
  "orchid pepper quartz river saffron timber umber velvet willow yarrow zephyr"
).split(" ");

export function jsonFromSchema(schema: unknown, random: Seeded): unknown {
  return new Generation(schema, random).value(schema, "#", 0);
}

class Generation {
  constructor(
    private readonly root: unknown,
    private readonly random: Seeded,
  ) {}

  value(input: unknown, at: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new UnsatisfiableSchemaError("the schema has no finite instance (it recurses without end)", at);
    if (input === true || input === undefined) return this.words(1, 2);
    if (input === false) throw new UnsatisfiableSchemaError("the schema `false` admits no value", at);
    if (!isSchema(input)) throw new UnsatisfiableSchemaError("not a JSON Schema object", at);
    const schema = this.flatten(input, at, depth);
    if ("const" in schema) return schema.const;
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length === 0) throw new UnsatisfiableSchemaError("empty enum", at);
      return this.random.pick(schema.enum);
    }
    const branches: unknown[] | null = Array.isArray(schema.anyOf)
      ? schema.anyOf
      : Array.isArray(schema.oneOf)
        ? schema.oneOf
        : null;
    if (branches) {
      if (branches.length === 0) throw new UnsatisfiableSchemaError("anyOf/oneOf without branches", at);
      const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = schema;
      const branch = depth >= MINIMAL_FROM_DEPTH ? terminalBranch(branches) : branches[0];
      return this.value(Object.keys(rest).length > 0 ? { allOf: [rest, branch] } : branch, at, depth + 1);
    }
    switch (this.typeOf(schema, depth, at)) {
      case "null":
        return null;
      case "boolean":
        return this.random.below(2) === 1;
      case "integer":
        return this.number(schema, true, at);
      case "number":
        return this.number(schema, false, at);
      case "string":
        return this.string(schema);
      case "array":
        return this.array(schema, at, depth);
      default:
        return this.object(schema, at, depth);
    }
  }

  /** Resolves `$ref` and merges `allOf`, so what is left describes one value directly. */
  private flatten(schema: Schema, at: string, depth: number): Schema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === "string" || Array.isArray(current.allOf); hops++) {
      if (depth + hops > MAX_DEPTH)
        throw new UnsatisfiableSchemaError("the schema has no finite instance (it recurses without end)", at);
      if (typeof current.$ref === "string") {
        const { $ref, ...siblings } = current;
        const target = this.resolve($ref, at);
        if (target === false) throw new UnsatisfiableSchemaError("the schema `false` admits no value", at);
        if (target !== true && !isSchema(target))
          throw new UnsatisfiableSchemaError(`$ref ${JSON.stringify($ref)} points at something that is not a schema`, at);
        const resolved = target === true ? {} : target;
        current = hasConstraints(siblings) ? { allOf: [resolved, siblings] } : resolved;
        continue;
      }
      const { allOf, ...rest } = current;
      const parts = [rest, ...(allOf as unknown[])].map((part) => {
        if (part === true) return {};
        if (!isSchema(part)) throw new UnsatisfiableSchemaError("allOf holds something that is not a satisfiable schema", at);
        return typeof part.$ref === "string" || Array.isArray(part.allOf) ? this.flatten(part, at, depth + hops + 1) : part;
      });
      current = parts.reduce(merge, {});
    }
    return current;
  }

  private resolve(ref: string, at: string): unknown {
    if (!ref.startsWith("#"))
      throw new UnsatisfiableSchemaError(`only local $ref ("#…") is supported, not ${JSON.stringify(ref)}`, at);
    let target: unknown = this.root;
    const pointer = ref.slice(1);
    if (pointer === "") return target;
    if (!pointer.startsWith("/")) throw new UnsatisfiableSchemaError(`$ref ${JSON.stringify(ref)} is not a JSON pointer`, at);
    for (const raw of pointer.slice(1).split("/")) {
      const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
      target = target !== null && typeof target === "object" ? (target as Record<string, unknown>)[key] : undefined;
      if (target === undefined) throw new UnsatisfiableSchemaError(`$ref ${JSON.stringify(ref)} points at nothing`, at);
    }
    return target;
  }

  private typeOf(schema: Schema, depth: number, at: string): string {
    const { type } = schema;
    if (typeof type === "string") return type;
    if (Array.isArray(type)) {
      if (type.length === 0) throw new UnsatisfiableSchemaError("empty type list", at);
      const concrete = type.filter((t) => t !== "null");
      // Nullable types answer with a value, as a model mostly does; deep down, null ends recursion.
      if (concrete.length === 0 || (depth >= MINIMAL_FROM_DEPTH && concrete.length < type.length)) return "null";
      return String(concrete[0]);
    }
    if ("properties" in schema || "required" in schema || "additionalProperties" in schema) return "object";
    if ("items" in schema || "prefixItems" in schema || "minItems" in schema) return "array";
    if ("minLength" in schema || "maxLength" in schema || "format" in schema || "pattern" in schema) return "string";
    if ("minimum" in schema || "maximum" in schema || "exclusiveMinimum" in schema || "exclusiveMaximum" in schema)
      return "number";
    return "string";
  }

  private number(schema: Schema, integer: boolean, at: string): number {
    const { lower, lowerExclusive, upper, upperExclusive } = bounds(schema);
    const low = lower ?? (upper !== undefined ? upper - NUMBER_SPAN : 0);
    const high = upper ?? low + NUMBER_SPAN;
    const declared = typeof schema.multipleOf === "number" && schema.multipleOf > 0 ? schema.multipleOf : undefined;
    const multiple = integer ? integerMultiple(declared ?? 1, at) : declared;
    const fits = (v: number) => (lowerExclusive ? v > low : v >= low) && (upperExclusive ? v < high : v <= high);
    if (multiple !== undefined) {
      const first = Math.ceil(low / multiple);
      const last = Math.floor(high / multiple);
      const count = last - first + 1;
      if (count > 0) {
        // Start anywhere in the span; walk a bounded way for one that the exclusive bounds admit
        // and that divides evenly in floating point, as validators check it (0.3 / 0.1 is not 3).
        const start = this.random.below(Math.min(count, 1_000_000));
        for (let step = 0; step < Math.min(count, 16); step++) {
          const candidate = shortestDecimal((first + ((start + step) % count)) * multiple);
          if (fits(candidate) && Number.isInteger(candidate / multiple)) return candidate;
        }
      }
      throw new UnsatisfiableSchemaError(`no ${integer ? "integer" : "multiple of " + multiple} lies within the bounds`, at);
    }
    const candidate = low + this.random.below(Math.max(1, Math.floor((high - low) * 4))) / 4;
    if (fits(candidate)) return candidate;
    const middle = (low + high) / 2;
    if (fits(middle)) return middle;
    throw new UnsatisfiableSchemaError("the numeric bounds admit no value", at);
  }

  private string(schema: Schema): string {
    const format = typeof schema.format === "string" ? schema.format : "";
    let text = this.formatted(format) ?? this.words(1, 3);
    const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
    const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : Infinity;
    while ([...text].length < minLength) text += ` ${this.random.pick(WORDS)}`;
    if ([...text].length > maxLength) text = [...text].slice(0, maxLength).join("");
    return text;
  }

  private formatted(format: string): string | undefined {
    const r = this.random;
    const two = (n: number) => String(n).padStart(2, "0");
    const date = () => `20${two(20 + r.below(10))}-${two(1 + r.below(12))}-${two(1 + r.below(28))}`;
    const time = () => `${two(r.below(24))}:${two(r.below(60))}:${two(r.below(60))}Z`;
    switch (format) {
      case "date":
        return date();
      case "date-time":
        return `${date()}T${time()}`;
      case "time":
        return time();
      case "email":
      case "idn-email":
        return `${r.pick(WORDS)}.${r.pick(WORDS)}@example.com`;
      case "uri":
      case "url":
      case "iri":
      case "uri-reference":
      case "iri-reference":
        return `https://example.com/${r.pick(WORDS)}/${r.below(1000)}`;
      case "hostname":
      case "idn-hostname":
        return `${r.pick(WORDS)}.example.com`;
      case "ipv4":
        return `192.0.2.${1 + r.below(254)}`;
      case "ipv6":
        return `2001:db8::${(1 + r.below(0xfffe)).toString(16)}`;
      case "uuid": {
        const hex = Array.from({ length: 4 }, () => r.next().toString(16).padStart(8, "0")).join("");
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${"89ab"[r.below(4)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
      }
      case "duration":
        return `P${1 + r.below(30)}D`;
      default:
        return undefined;
    }
  }

  private array(schema: Schema, at: string, depth: number): unknown[] {
    const minimal = depth >= MINIMAL_FROM_DEPTH;
    const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : [];
    const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
    const maxItems = typeof schema.maxItems === "number" ? schema.maxItems : Infinity;
    if (minItems > maxItems) throw new UnsatisfiableSchemaError("minItems is above maxItems", at);
    const open = tuple.length === 0 ? !minimal : false;
    const wanted = Math.min(
      maxItems,
      Math.max(minItems, open ? 1 + this.random.below(2) : Math.min(tuple.length, minimal ? minItems : tuple.length)),
    );
    const out: unknown[] = [];
    const seen = new Set<string>();
    // uniqueItems may need a few draws more than items; bounded, so an enum too small fails rather than spins.
    for (let draw = 0; out.length < wanted && draw < wanted * 8 + 8; draw++) {
      const index = out.length;
      if (index < tuple.length) {
        out.push(this.value(tuple[index], `${at}/${index}`, depth + 1));
        continue;
      }
      if (rest === false) break;
      const item = this.value(rest, `${at}/${index}`, depth + 1);
      if (schema.uniqueItems === true) {
        const key = JSON.stringify(item);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push(item);
    }
    if (out.length < minItems)
      throw new UnsatisfiableSchemaError(
        `cannot make ${minItems} items${schema.uniqueItems === true ? " that are all different" : ""}`,
        at,
      );
    return out;
  }

  private object(schema: Schema, at: string, depth: number): Record<string, unknown> {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required)
      ? schema.required.filter((key): key is string => typeof key === "string")
      : [];
    const additional = schema.additionalProperties;
    const maxProperties = typeof schema.maxProperties === "number" ? schema.maxProperties : Infinity;
    if (required.length > maxProperties) throw new UnsatisfiableSchemaError("more required properties than maxProperties", at);
    const optional = depth >= MINIMAL_FROM_DEPTH ? [] : Object.keys(properties).filter((key) => !required.includes(key));
    const keys = [...required, ...optional.slice(0, Math.max(0, maxProperties - required.length))];
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const property = key in properties ? properties[key] : additional === false ? undefined : additional;
      if (property === undefined && additional === false)
        throw new UnsatisfiableSchemaError(
          `required property ${JSON.stringify(key)} is not allowed by additionalProperties: false`,
          at,
        );
      out[key] = this.value(property, `${at}/${escapePointer(key)}`, depth + 1);
    }
    const minProperties = typeof schema.minProperties === "number" ? schema.minProperties : 0;
    for (let extra = 1; Object.keys(out).length < minProperties; extra++) {
      if (additional === false)
        throw new UnsatisfiableSchemaError("minProperties needs more properties than the schema allows", at);
      out[`extra_${extra}`] = this.value(additional, `${at}/extra_${extra}`, depth + 1);
    }
    return out;
  }

  private words(min: number, max: number): string {
    const count = min + this.random.below(max - min + 1);
    return Array.from({ length: count }, () => this.random.pick(WORDS)).join(" ");
  }
}

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const ANNOTATIONS = new Set([
  "description",
  "title",
  "default",
  "examples",
  "$comment",
  "$schema",
  "$id",
  "$defs",
  "definitions",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

function hasConstraints(schema: Schema): boolean {
  return Object.keys(schema).some((key) => !ANNOTATIONS.has(key));
}

/** A branch that does not recurse: null first, then anything without a $ref, else the first. */
function terminalBranch(branches: unknown[]): unknown {
  return (
    branches.find((b) => isSchema(b) && b.type === "null") ??
    branches.find((b) => isSchema(b) && !JSON.stringify(b).includes('"$ref"')) ??
    branches[0]
  );
}

const LOWER_KEYS = new Set(["minimum", "minLength", "minItems", "minProperties"]);
const UPPER_KEYS = new Set(["maximum", "maxLength", "maxItems", "maxProperties"]);

/** Merges two schemas that must both hold (allOf): properties combined, required united, bounds tightened. */
function merge(into: Schema, next: Schema): Schema {
  const out: Schema = { ...into };
  for (const [key, value] of Object.entries(next)) {
    const current = out[key];
    if (current === undefined) {
      out[key] = value;
    } else if (key === "properties" && isSchema(current) && isSchema(value)) {
      const properties: Schema = { ...current };
      for (const [name, property] of Object.entries(value))
        properties[name] = name in properties ? { allOf: [properties[name], property] } : property;
      out.properties = properties;
    } else if (key === "required" && Array.isArray(current) && Array.isArray(value)) {
      out.required = [...new Set<unknown>([...(current as unknown[]), ...(value as unknown[])])];
    } else if (key === "type") {
      const a: unknown[] = Array.isArray(current) ? current : [current];
      const b: unknown[] = Array.isArray(value) ? value : [value];
      // integer satisfies number: the narrower type wins.
      const both = a.flatMap((t) =>
        b.includes(t)
          ? [t]
          : t === "number" && b.includes("integer")
            ? ["integer"]
            : t === "integer" && b.includes("number")
              ? ["integer"]
              : [],
      );
      out.type = both.length === 1 ? both[0] : both;
    } else if (key === "enum" && Array.isArray(current) && Array.isArray(value)) {
      const allowed = new Set(value.map((v) => JSON.stringify(v)));
      out.enum = current.filter((v) => allowed.has(JSON.stringify(v)));
    } else if (LOWER_KEYS.has(key) && typeof current === "number" && typeof value === "number") {
      out[key] = Math.max(current, value);
    } else if (UPPER_KEYS.has(key) && typeof current === "number" && typeof value === "number") {
      out[key] = Math.min(current, value);
    } else if (key === "additionalProperties" && value === false) {
      out[key] = false;
    }
  }
  return out;
}

interface Bounds {
  lower: number | undefined;
  lowerExclusive: boolean;
  upper: number | undefined;
  upperExclusive: boolean;
}

/** Numeric bounds in either spelling: draft 4's boolean exclusiveMinimum, or draft 6+'s numeric one. */
function bounds(schema: Schema): Bounds {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  let lower = num(schema.minimum);
  let upper = num(schema.maximum);
  let lowerExclusive = schema.exclusiveMinimum === true;
  let upperExclusive = schema.exclusiveMaximum === true;
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  if (exclusiveMin !== undefined && (lower === undefined || exclusiveMin >= lower)) {
    lower = exclusiveMin;
    lowerExclusive = true;
  }
  if (exclusiveMax !== undefined && (upper === undefined || exclusiveMax <= upper)) {
    upper = exclusiveMax;
    upperExclusive = true;
  }
  return { lower, lowerExclusive, upper, upperExclusive };
}

/** The smallest integer that is a multiple of `multiple` (an integer schema with multipleOf 0.5 needs whole numbers). */
function integerMultiple(multiple: number, at: string): number {
  for (let factor = 1; factor <= 1_000; factor++) {
    const candidate = shortestDecimal(multiple * factor);
    if (Number.isInteger(candidate) && Number.isInteger(candidate / multiple)) return candidate;
  }
  throw new UnsatisfiableSchemaError(`no small integer is a multiple of ${multiple}`, at);
}

/** k × 0.1 can be 0.30000000000000004 in floating point: keep the shortest decimal that is the same number to 12 digits. */
function shortestDecimal(value: number): number {
  return Number(value.toPrecision(12));
}

function escapePointer(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}
