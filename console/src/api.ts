// Typed calls through the client's openapi-fetch layer, as values or thrown MariaErrors.

import { MariaError } from "@kinoway/maria";

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown[] };
}

function isErrorBody(body: unknown): body is ErrorBody {
  const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : null;
  return typeof error === "object" && error !== null && typeof (error as ErrorBody["error"]).message === "string";
}

/** The contract's error body (already parsed by openapi-fetch) as a MariaError. */
export function toError(response: Response, body: unknown): MariaError {
  if (isErrorBody(body)) {
    const { code, message, details } = body.error;
    return new MariaError(response.status, code, message, { details: Array.isArray(details) ? details : null });
  }
  return new MariaError(response.status, `http_${response.status}`, response.statusText || `HTTP ${response.status}`);
}

/** The answer (body and response), or the MariaError a non-2xx answer is. */
export async function answer<T>(call: Promise<Result<T>>): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await call;
  if (!response.ok) throw toError(response, error);
  return { data: data as T, response };
}

/** The answer's body, or the MariaError a non-2xx answer is. */
export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  return (await answer(call)).data;
}

/** For answers without a body (204, 202). */
export async function done(call: Promise<Result<unknown>>): Promise<void> {
  await answer(call);
}
