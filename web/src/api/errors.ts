// API errors are {code, message, details: {field}}; forms show them next to the field they name.
export interface ApiError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

export function toApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { code?: string; message?: string; details?: { field?: string } };
  return {
    status,
    code: b.code ?? "error",
    message: b.message ?? `HTTP ${status}`,
    field: b.details?.field || undefined,
  };
}

export class ApiFailure extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** The form field an error's `details.field` names: "spec.image" / "changes.image" → "image",
 * "changes.config_files.app.yaml" → "config_files". */
export function formField(field: string | undefined, known: readonly string[]): string | undefined {
  if (!field) return undefined;
  const parts = field.replace(/^(spec|changes)\./, "").split(/[.[]/);
  const head = parts[0];
  return known.includes(head) ? head : undefined;
}
