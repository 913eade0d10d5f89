/**
 * Docker-Distribution-API-Version on every answer (clients check it on /v2/). Each response
 * carries it in the headers it is built with, rather than a middleware adding it afterwards:
 * on Node, touching a finished Response's headers makes @hono/node-server build a full
 * Headers object per request, a sixth of the time of a cached manifest GET.
 *
 * Written as a computed key (`{ [API_VERSION_HEADER]: API_VERSION, … }`), never spread first
 * into a header literal: V8 (Node 20) takes a slow path for `{ ...x, more }`, ~2 µs a time.
 */
export const API_VERSION_HEADER = "Docker-Distribution-API-Version";
export const API_VERSION = "registry/2.0";
