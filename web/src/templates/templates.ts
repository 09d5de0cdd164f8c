// Groups from component templates in the console: pure helpers for the create dialog (which fields a
// template's parameters make, what the API is sent, which field an API error names).
import type { Schemas } from "../api/client";

export type Template = Schemas["TemplateOut"];
export type ParamType = "string" | "int" | "enum" | "flavor" | "image" | "bool";

export interface Parameter {
  name: string;
  type: ParamType;
  description: string;
  default: unknown;
  minimum?: number | null;
  maximum?: number | null;
  choices?: string[];
}

/** The parameters of a template as the API describes them; one without a default is required. */
export function parametersOf(template: Template | undefined): Parameter[] {
  return (template?.parameters ?? []) as unknown as Parameter[];
}

export const isRequired = (p: Parameter) => p.default === null || p.default === undefined;

/** A template's key in the dialog's choice: `name` for the platform's, `system:name` for a system's. */
export const templateKey = (t: Template) => (t.system ? `${t.system}:${t.name}` : t.name);

/** The form's name for a parameter's field (kept apart from the group's own fields). */
export const paramField = (name: string): [string, string] => ["parameters", name];

/** The parameters sent: what the user gave, typed; an empty optional field is left to its default. */
export function parameterValues(params: Parameter[], values: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const v = values?.[p.name];
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) continue;
    out[p.name] = typeof v === "string" ? v.trim() : v;
  }
  return out;
}

/** What a deploy from the template is sent: `{template: {name, system?, version, parameters}}`. */
export function templateTarget(template: Template, parameters: Record<string, unknown>) {
  return {
    name: template.name,
    version: template.version,
    ...(template.system ? { system: template.system } : {}),
    parameters,
  };
}

/** The dialog's field an API error names: `parameters.NAME` (also `template.parameters.NAME`) is that
 * parameter's field; `name`, `environment`, `cluster` are the group's. */
export function errorField(field: string | undefined, params: Parameter[]): (string | [string, string]) | undefined {
  if (!field) return undefined;
  const m = /^(?:template\.)?parameters\.([a-z][a-z0-9_]*)/.exec(field);
  if (m) return params.some((p) => p.name === m[1]) ? paramField(m[1]) : undefined;
  return ["name", "environment", "cluster"].includes(field) ? field : undefined;
}

/** The initial value of a parameter's field: its default (a bool's as a bool). */
export function initialValue(p: Parameter): unknown {
  if (p.type === "bool") return p.default === true;
  return isRequired(p) ? undefined : p.default;
}
