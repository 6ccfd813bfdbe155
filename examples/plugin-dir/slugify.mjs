// The handler of slugify.tool.json. Plain JavaScript with no imports, so the directory can live
// anywhere: the server checks the input against the manifest before calling this.
export function handler(input) {
  const slug = input.text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, input.maxLength ?? 60)
    .replace(/-$/, "");
  return { slug };
}
