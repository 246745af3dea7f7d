/**
 * Every refusal from Maria, as one error type: the contract's `{"error": {code, message,
 * details}}` body, the status, and `Retry-After` when the server sent one. Apps branch on
 * `code` (stable, snake_case) and show `message` (human text).
 */
export class MariaError extends Error {
  override readonly name = "MariaError";
  /** The HTTP status; 0 when no answer came (network failure, timeout). */
  readonly status: number;
  /** The contract's error code (`token_expired`, `validation_error`, ...), or
   * `network_error` / `http_<status>` when the answer was not Maria's. */
  readonly code: string;
  /** Validation details (`[{loc, msg, type}]`), only on 422 answers. */
  readonly details?: unknown[];
  /** Seconds to wait before trying again (429, 503). */
  readonly retryAfter?: number;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: unknown[] | null; retryAfter?: number | null; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.status = status;
    this.code = code;
    if (extra.details) this.details = extra.details;
    if (extra.retryAfter != null) this.retryAfter = extra.retryAfter;
  }

  /** The error an answer carries. Reads the body: call it on a response nobody else reads. */
  static async fromResponse(response: Response): Promise<MariaError> {
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    let body: unknown = null;
    try {
      body = JSON.parse(await response.text());
    } catch {
      // Not Maria's JSON (a proxy's HTML page, an empty body): keep the status.
    }
    const error = isErrorBody(body) ? body.error : null;
    if (error === null) {
      const text = response.statusText || `HTTP ${response.status}`;
      return new MariaError(response.status, `http_${response.status}`, text, { retryAfter });
    }
    return new MariaError(response.status, error.code, error.message, {
      details: Array.isArray(error.details) ? error.details : null,
      retryAfter,
    });
  }

  /** A fetch that never got an answer (offline, DNS, refused, timed out). */
  static network(cause: unknown): MariaError {
    const timedOut = cause instanceof Error && cause.name === "TimeoutError";
    const message = timedOut ? "Maria did not answer in time" : "Maria could not be reached";
    return new MariaError(0, "network_error", message, { cause });
  }
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

function parseRetryAfter(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}
