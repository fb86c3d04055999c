/**
 * The zod schemas used at run time must mirror `proto/` field for field:
 * same JSON names, same types, same services and methods. This test fails as
 * soon as one side changes without the other.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { MESSAGE_SCHEMAS, SERVICES } from "@bookstore/lib/contracts";
import { type FieldDescriptor, loadDescriptors, type MessageDescriptor } from "./support/buf.ts";

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
};

const { messages, services } = await loadDescriptors();

const SCALARS: Record<string, string> = {
  TYPE_STRING: "string",
  TYPE_BOOL: "boolean",
  TYPE_INT32: "integer",
  TYPE_UINT32: "integer",
  TYPE_SINT32: "integer",
  TYPE_DOUBLE: "number",
  TYPE_FLOAT: "number",
};

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

function compareMessage(fullName: string, message: MessageDescriptor, schema: JsonSchema, path: string) {
  assert.equal(schema.type, "object", `${path}: ${fullName} must be a zod object`);
  const fields = (message.field ?? []).filter((f) => f);
  const protoNames = fields.map((f) => f.jsonName).sort();
  const zodNames = Object.keys(schema.properties ?? {}).sort();
  assert.deepEqual(zodNames, protoNames, `${path}: fields of ${fullName} differ between zod and proto`);
  for (const field of fields) {
    compareField(field, schema.properties![field.jsonName], `${path}.${field.jsonName}`);
  }
}

function compareField(field: FieldDescriptor, schema: JsonSchema, path: string) {
  const target = field.typeName ? messages.get(field.typeName) : undefined;
  if (target?.options?.mapEntry) {
    assert.equal(schema.type, "object", `${path}: a map must be a zod record`);
    const value = target.field!.find((f) => f.name === "value")!;
    assert.ok(typeof schema.additionalProperties === "object", `${path}: map values must be typed`);
    compareValue(value, schema.additionalProperties as JsonSchema, `${path}[*]`);
    return;
  }
  if (field.label === "LABEL_REPEATED") {
    assert.equal(schema.type, "array", `${path}: a repeated field must be a zod array`);
    compareValue(field, schema.items!, `${path}[]`);
    return;
  }
  compareValue(field, schema, path);
}

function compareValue(field: FieldDescriptor, schema: JsonSchema, path: string) {
  if (field.type === "TYPE_MESSAGE") {
    compareMessage(field.typeName!, messages.get(field.typeName!)!, schema, path);
    return;
  }
  const expected = SCALARS[field.type];
  assert.ok(expected, `${path}: proto type ${field.type} has no JSON mapping here; extend the test`);
  assert.equal(schema.type, expected, `${path}: proto ${field.type} needs a zod ${expected}`);
}

Deno.test("every proto message has a zod schema and every schema a proto message", () => {
  const protoNames = [...messages].filter(([, m]) => !m.options?.mapEntry).map(([name]) => name.slice(1)).sort();
  assert.deepEqual(Object.keys(MESSAGE_SCHEMAS).sort(), protoNames);
});

Deno.test("zod schemas match proto messages field for field", () => {
  for (const [name, schema] of Object.entries(MESSAGE_SCHEMAS)) {
    compareMessage(`.${name}`, messages.get(`.${name}`)!, jsonSchemaOf(schema), name);
  }
});

Deno.test("service definitions match proto services method for method", () => {
  assert.deepEqual(Object.keys(SERVICES).sort(), [...services.keys()].sort());
  for (const [name, proto] of services) {
    const spec = SERVICES[name];
    assert.deepEqual(
      Object.keys(spec.methods).sort(),
      proto.method.map((m) => m.name).sort(),
      `methods of ${name}`,
    );
    for (const m of proto.method) {
      const method = spec.methods[m.name];
      assert.deepEqual(
        jsonSchemaOf(method.input),
        jsonSchemaOf(MESSAGE_SCHEMAS[m.inputType.slice(1)]),
        `${name}/${m.name} input must be ${m.inputType}`,
      );
      assert.deepEqual(
        jsonSchemaOf(method.output),
        jsonSchemaOf(MESSAGE_SCHEMAS[m.outputType.slice(1)]),
        `${name}/${m.name} output must be ${m.outputType}`,
      );
    }
  }
});

Deno.test("the drift check notices a renamed field", () => {
  const drifted = z.object({ name: z.string().default(""), contactInfo: z.string().default("") });
  assert.throws(
    () => compareMessage(".bookstore.v1.User", messages.get(".bookstore.v1.User")!, jsonSchemaOf(drifted), "User"),
    /fields of .bookstore.v1.User differ/,
  );
});
