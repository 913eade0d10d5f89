/** GET /v2/: the API version check every client starts with. No auth: the registry is public. */
export function baseHandler(): Response {
  return new Response("{}", { status: 200, headers: { "Content-Type": "application/json" } });
}
