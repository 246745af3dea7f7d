// Typed calls through the client's openapi-fetch layer. The client's transport turns every
// answer that is not a 2xx into a rejected MariaError, so a resolved call is a success.

interface Result<T> {
  data?: T;
  response: Response;
}

/** The answer's body and response (for calls whose status says something: 201 vs 200). */
export async function answer<T>(call: Promise<Result<T>>): Promise<{ data: T; response: Response }> {
  const { data, response } = await call;
  return { data: data as T, response };
}

/** The answer's body. */
export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  return (await answer(call)).data;
}

/** For answers without a body (204, 202). */
export async function done(call: Promise<Result<unknown>>): Promise<void> {
  await call;
}
