// Values generated from JSON Schemas must validate against them: checked with ajv (formats
// included) over hand-written schemas in both drafts' spellings and the schemas zod and the
// `openai` SDK's structured-output helper emit, for many seeds.
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { zodResponseFormat } from "openai/helpers/zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonFromSchema, UnsatisfiableSchemaError } from "../../lib/data-plane/providers/simulation/json-from-schema";
import { Seeded } from "../../lib/data-plane/providers/simulation/seeded";

const draft07 = addFormats(new Ajv({ strict: false, allErrors: true }));
const draft2020 = addFormats(new Ajv2020({ strict: false, allErrors: true }));

function validatorFor(schema: Record<string, unknown>) {
  const ajv =
    JSON.stringify(schema).includes("prefixItems") || ((schema.$schema as string | undefined) ?? "").includes("2020")
      ? draft2020
      : draft07;
  return ajv.compile(schema);
}

const treeNode = z.object({
  label: z.string(),
  get children(): z.ZodArray<typeof treeNode> {
    return z.array(treeNode);
  },
});

const handWritten: Record<string, Record<string, unknown>> = {
  "object with required, optional and no extra properties": {
    type: "object",
    properties: {
      city: { type: "string" },
      unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      days: { type: "integer", minimum: 1, maximum: 7 },
    },
    required: ["city"],
    additionalProperties: false,
  },
  "string formats and lengths": {
    type: "object",
    properties: {
      day: { type: "string", format: "date" },
      at: { type: "string", format: "date-time" },
      clock: { type: "string", format: "time" },
      mail: { type: "string", format: "email" },
      link: { type: "string", format: "uri" },
      id: { type: "string", format: "uuid" },
      host: { type: "string", format: "hostname" },
      v4: { type: "string", format: "ipv4" },
      v6: { type: "string", format: "ipv6" },
      short: { type: "string", maxLength: 3 },
      long: { type: "string", minLength: 40 },
    },
    required: ["day", "at", "clock", "mail", "link", "id", "host", "v4", "v6", "short", "long"],
  },
  "numbers: exclusive bounds, multipleOf, fractions": {
    type: "object",
    properties: {
      open: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 },
      step: { type: "number", multipleOf: 0.1, minimum: 0.25, maximum: 0.55 },
      fives: { type: "integer", multipleOf: 5, minimum: 3, maximum: 40 },
      negative: { type: "integer", maximum: -1000 },
    },
    required: ["open", "step", "fives", "negative"],
  },
  "arrays: items, bounds, unique enum items, tuples (draft 7)": {
    type: "object",
    properties: {
      tags: { type: "array", items: { type: "string" }, minItems: 3, maxItems: 5 },
      unique: { type: "array", items: { enum: ["a", "b", "c"] }, minItems: 3, uniqueItems: true },
      pair: { type: "array", items: [{ type: "string" }, { type: "number" }], additionalItems: false, minItems: 2 },
      none: { type: "array", maxItems: 0 },
    },
    required: ["tags", "unique", "pair", "none"],
  },
  "tuples with prefixItems (2020-12)": {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "array",
    prefixItems: [{ type: "boolean" }, { const: "x" }],
    items: false,
    minItems: 2,
  },
  "nullable types, const, anyOf, oneOf, allOf": {
    type: "object",
    properties: {
      maybe: { type: ["string", "null"] },
      openapi: { type: "string", nullable: true },
      fixed: { const: 42 },
      either: { anyOf: [{ type: "integer", minimum: 5 }, { type: "null" }] },
      one: { oneOf: [{ type: "string", enum: ["only"] }, { type: "number" }] },
      both: {
        allOf: [
          { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
          { properties: { b: { type: "integer", minimum: 2 } }, required: ["b"] },
        ],
      },
    },
    required: ["maybe", "openapi", "fixed", "either", "one", "both"],
  },
  "$ref into definitions (zod-to-json-schema / LangChain style)": {
    $ref: "#/definitions/Plan",
    definitions: {
      Plan: {
        type: "object",
        properties: { steps: { type: "array", items: { $ref: "#/definitions/Step" }, minItems: 1 } },
        required: ["steps"],
        additionalProperties: false,
      },
      Step: {
        type: "object",
        properties: { title: { type: "string" }, minutes: { type: "number", minimum: 0 } },
        required: ["title", "minutes"],
        additionalProperties: false,
      },
    },
    $schema: "http://json-schema.org/draft-07/schema#",
  },
  "$ref into $defs, with sibling constraints and a recursive tree": {
    type: "object",
    properties: {
      root: { $ref: "#/$defs/node", description: "the tree" },
      home: { $ref: "#/$defs/address", required: ["zip"] },
    },
    required: ["root", "home"],
    $defs: {
      node: {
        type: "object",
        properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } } },
        required: ["name", "children"],
      },
      address: {
        type: "object",
        properties: { street: { type: "string" }, zip: { type: "string", pattern: "^[a-z ]+$" } },
        required: ["street"],
      },
    },
  },
  "recursion through the root (#) with an optional child": {
    type: "object",
    properties: { value: { type: "integer" }, next: { anyOf: [{ $ref: "#" }, { type: "null" }] } },
    required: ["value", "next"],
  },
  "no type but properties; additionalProperties schema with minProperties": {
    properties: { fixed: { type: "boolean" } },
    additionalProperties: { type: "integer", minimum: 1, maximum: 3 },
    minProperties: 3,
    required: ["fixed"],
  },
};

const zodSchemas: Record<string, z.ZodType> = {
  "zod object with formats, optional and nullable fields": z.object({
    email: z.email(),
    id: z.uuid(),
    at: z.iso.datetime(),
    day: z.iso.date(),
    site: z.url(),
    score: z.number().gt(0).lt(1),
    count: z.int().multipleOf(5).min(3).max(40),
    note: z.string().min(2).max(10).optional(),
    owner: z.string().nullable(),
  }),
  "zod discriminated union, enum, literal, record, tuple": z.object({
    shape: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("circle"), radius: z.number().positive() }),
      z.object({ kind: z.literal("square"), side: z.number() }),
    ]),
    colour: z.enum(["red", "green"]),
    labels: z.record(z.string(), z.number()),
    point: z.tuple([z.number(), z.number()]),
    list: z.array(z.boolean()).min(2).max(4),
  }),
  "zod recursive tree (emits $defs and $ref)": z.object({ tree: treeNode }),
};

// The structured-outputs subset: every field required, nullable instead of optional, closed objects.
const strictZodSchemas: Record<string, z.ZodObject> = {
  "weather with enum, bounds, nullable, nested array": z.object({
    city: z.string(),
    unit: z.enum(["celsius", "fahrenheit"]),
    days: z.int().min(1).max(7),
    note: z.string().nullable(),
    hours: z.array(z.object({ at: z.iso.datetime(), degrees: z.number() })),
  }),
  "discriminated union": z.object({
    shape: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("circle"), radius: z.number() }),
      z.object({ kind: z.literal("square"), side: z.number() }),
    ]),
  }),
  "recursive tree": z.object({ tree: treeNode }),
};

function expectValidForSeeds(schema: Record<string, unknown>, runs = 60) {
  const validate = validatorFor(schema);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffffffff }), (seed) => {
      const value = jsonFromSchema(schema, new Seeded(seed));
      if (!validate(value)) throw new Error(`${JSON.stringify(value)} fails: ${draft07.errorsText(validate.errors)}`);
    }),
    { numRuns: runs },
  );
}

describe("jsonFromSchema", () => {
  it.each(Object.entries(handWritten))("validates: %s", (_, schema) => {
    expectValidForSeeds(schema);
  });

  it.each(Object.entries(zodSchemas))("validates what zod emits: %s", (_, schema) => {
    expectValidForSeeds(z.toJSONSchema(schema));
  });

  it.each(Object.entries(strictZodSchemas))("validates the strict schema of openai's zodResponseFormat: %s", (name, schema) => {
    const format = zodResponseFormat(schema, name.replace(/[^a-z]+/gi, "_"));
    const jsonSchema = format.json_schema.schema as Record<string, unknown>;
    expectValidForSeeds(jsonSchema);
    // And the SDK's own parser accepts it, as it would a model's answer.
    expect(() => format.$parseRaw(JSON.stringify(jsonFromSchema(jsonSchema, new Seeded(7))))).not.toThrow();
  });

  it("validates arbitrary schemas built from the supported keywords", () => {
    const { schema } = fc.letrec<{ schema: Record<string, unknown> }>((tie) => ({
      schema: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.record(
          { type: fc.constant("string"), minLength: fc.nat(12), maxLength: fc.integer({ min: 12, max: 30 }) },
          { requiredKeys: ["type"] },
        ),
        fc.record({
          type: fc.constant("string"),
          format: fc.constantFrom("date", "date-time", "time", "email", "uri", "uuid", "hostname", "ipv4", "ipv6"),
        }),
        fc.record({ type: fc.constant("string"), enum: fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }) }),
        fc
          .tuple(
            fc.constantFrom("integer", "number"),
            fc.integer({ min: -1_000, max: 1_000 }),
            fc.nat(500),
            fc.boolean(),
            fc.constantFrom(undefined, 1, 3, 0.5),
          )
          .map(([type, low, span, exclusive, multipleOf]) => ({
            type,
            ...(exclusive ? { exclusiveMinimum: low, exclusiveMaximum: low + span + 2 } : { minimum: low, maximum: low + span }),
            ...(multipleOf !== undefined && span >= 8 ? { multipleOf } : {}),
          })),
        fc.constant({ type: "boolean" }),
        fc.constant({ type: "null" }),
        fc.jsonValue({ maxDepth: 2 }).map((value) => ({ const: value })),
        fc.record(
          { type: fc.constant("array"), items: tie("schema"), minItems: fc.nat(3), maxItems: fc.integer({ min: 3, max: 5 }) },
          { requiredKeys: ["type", "items"] },
        ),
        fc.dictionary(fc.stringMatching(/^[a-z_]{1,8}$/), tie("schema"), { maxKeys: 4 }).chain((properties) =>
          fc.record({
            type: fc.constant("object"),
            properties: fc.constant(properties),
            required: fc.subarray(Object.keys(properties)),
            additionalProperties: fc.constant(false),
          }),
        ),
        fc.array(tie("schema"), { minLength: 1, maxLength: 3 }).map((branches) => ({ anyOf: branches })),
        fc.constantFrom("string", "integer", "object").map((type) => ({ type: [type, "null"] })),
      ),
    }));
    // $ref resolves against the root, so definitions live there.
    const rooted = fc.oneof(
      schema,
      fc
        .tuple(schema, fc.constantFrom("$defs", "definitions"))
        .map(([target, where]) => ({ $ref: `#/${where}/target`, [where]: { target } })),
    );
    fc.assert(
      fc.property(rooted, fc.integer({ min: 1, max: 0xffffffff }), (generated, seed) => {
        const value = jsonFromSchema(generated, new Seeded(seed));
        const validate = draft07.compile(generated);
        if (!validate(value))
          throw new Error(`${JSON.stringify(value)} fails ${JSON.stringify(generated)}: ${draft07.errorsText(validate.errors)}`);
      }),
      { numRuns: 300 },
    );
  });

  it("reads draft 4's boolean exclusive bounds", () => {
    for (let seed = 1; seed < 50; seed++) {
      expect(
        jsonFromSchema(
          { type: "integer", minimum: 10, exclusiveMinimum: true, maximum: 12, exclusiveMaximum: true },
          new Seeded(seed),
        ),
      ).toBe(11);
    }
  });

  it("is a pure function of the schema and the seed", () => {
    const schema = handWritten["string formats and lengths"]!;
    expect(jsonFromSchema(schema, new Seeded(99))).toEqual(jsonFromSchema(schema, new Seeded(99)));
    expect(jsonFromSchema(schema, new Seeded(99))).not.toEqual(jsonFromSchema(schema, new Seeded(100)));
  });

  it("ends recursive schemas with finite values", () => {
    const value = jsonFromSchema(handWritten["recursion through the root (#) with an optional child"], new Seeded(3));
    expect(JSON.stringify(value).length).toBeLessThan(10_000);
  });

  it.each([
    ["a $ref to nothing", { $ref: "#/$defs/missing" }, /points at nothing/],
    ["a remote $ref", { $ref: "https://example.com/schema.json" }, /only local \$ref/],
    [
      "a required property that recurses forever",
      { type: "object", properties: { self: { $ref: "#" } }, required: ["self"] },
      /no finite instance/,
    ],
    ["bounds that cross", { type: "integer", minimum: 5, maximum: 4 }, /no integer/],
    [
      "an enum too small for unique items",
      { type: "array", items: { enum: [1, 2] }, minItems: 3, uniqueItems: true },
      /all different/,
    ],
    ["the false schema", false, /admits no value/],
  ])("refuses %s with UnsatisfiableSchemaError", (_, schema, message) => {
    expect(() => jsonFromSchema(schema, new Seeded(1))).toThrow(UnsatisfiableSchemaError);
    expect(() => jsonFromSchema(schema, new Seeded(1))).toThrow(message);
  });
});
