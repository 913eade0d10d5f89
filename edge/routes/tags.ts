/**
 * GET /v2/<name>/tags/list. Any tag names a source ref, so there is no finite list; the
 * one every name has is `latest`. A name whose packages the source does not have is
 * NAME_UNKNOWN (when the builder can tell). Pagination (n, last) follows the spec.
 */
import type { Context } from "hono";
import { API_VERSION, API_VERSION_HEADER } from "../api-version.ts";
import { errors } from "../errors.ts";
import { type RouteContext, requireName } from "./context.ts";

const KNOWN_TAGS = ["latest"];

export async function tagsHandler(c: Context, rc: RouteContext, name: string): Promise<Response> {
  const image = requireName(name);
  const unknown = await rc.names.unknownPackages(image.packages, "latest");
  if (unknown?.length) throw errors.nameUnknown(unknown);
  const last = c.req.query("last");
  const n = Number(c.req.query("n"));
  let tags = KNOWN_TAGS.filter((t) => last === undefined || t > last);
  if (c.req.query("n") !== undefined && Number.isInteger(n) && n >= 0) tags = tags.slice(0, n);
  return new Response(JSON.stringify({ name, tags }), {
    status: 200,
    headers: { [API_VERSION_HEADER]: API_VERSION, "Content-Type": "application/json" },
  });
}
