// Running from a checkout of the repository: TypeScript through tsx, and the "@orchard/source"
// export condition, so that orchard's own packages (`orchard`, `@orchard/udf-server`, the
// generated `#connect-proto`) resolve to their sources in src/ rather than to a build in dist/.
// The installed package never loads this file: its executables run the compiled JavaScript.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
// Hooks registered later run first: this one adds the condition, then tsx and Node resolve.
const addCondition = `export async function resolve(specifier, context, next) {
  const conditions = context.conditions.includes("@orchard/source") ? context.conditions : [...context.conditions, "@orchard/source"];
  return next(specifier, { ...context, conditions });
}`;
register(`data:text/javascript,${encodeURIComponent(addCondition)}`);
