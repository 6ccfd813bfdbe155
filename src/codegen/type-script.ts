import { compile, type JSONSchema } from "json-schema-to-typescript";

/**
 * TypeScript declarations of a JSON Schema, named `name`, in the style every generated file shares.
 * `$ref`s to other files resolve from `root`, unless `externalRefs` is false (schemas a server sent,
 * which must not make the generator read local files or the network).
 */
export async function toTypeScript(schema: JSONSchema, name: string, root: string, externalRefs = true): Promise<string> {
  // The root type is named by us, not by a title the author gave the schema.
  const { title: _title, $id: _id, ...rest } = schema;
  return compile(rest as JSONSchema, name, {
    bannerComment: "",
    additionalProperties: false,
    unknownAny: true,
    cwd: root,
    format: true,
    style: { singleQuote: false, printWidth: 100 },
    ...(externalRefs ? {} : { $refOptions: { resolve: { external: false } } }),
  });
}
