import type { z } from 'zod';
import { HttpError, type FieldIssue } from './errors';

/** zod issues as {field, message}; the root is "(body)". Input values are never echoed. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

/** Parses input with the schema or throws a 400 HttpError listing every invalid field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new HttpError(400, `Invalid ${what}`, toFieldIssues(result.error));
}
