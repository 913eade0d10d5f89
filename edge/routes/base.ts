import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";

/** GET /v2/: the API version check every client starts with. No auth: the registry is public. */
export function baseHandler(): Response {
  return new Response("{}", { status: 200, headers: { [API_VERSION_HEADER]: API_VERSION, "Content-Type": "application/json" } });
}
