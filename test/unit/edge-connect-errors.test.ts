import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toBuildError } from "../../edge/builder/connect.ts";
import { toRegistryError } from "../../edge/resolve.ts";
import { ErrorDetailSchema, ErrorKind } from "../../proto/gen/nixport/builder/v1/builder_pb.ts";

describe("builder status codes → BuildError → registry error", () => {
  const cases: [Code, string, number][] = [
    [Code.InvalidArgument, "invalid_argument", 400],
    [Code.NotFound, "not_found", 404],
    [Code.FailedPrecondition, "build_failed", 500],
    [Code.PermissionDenied, "denied", 403],
    [Code.DeadlineExceeded, "timeout", 503],
    [Code.Canceled, "timeout", 503],
    [Code.Unavailable, "unavailable", 503],
    [Code.ResourceExhausted, "unavailable", 503],
    [Code.Unauthenticated, "unauthenticated", 503],
    [Code.Internal, "internal", 500],
  ];
  it.each(cases)("code %s → %s → HTTP %s", (code, kind, status) => {
    const e = toBuildError(new ConnectError("m", code));
    expect(e.kind).toBe(kind);
    expect(toRegistryError(e, 10).status).toBe(status);
  });

  it("the edge's own build timeout (an aborted call) says the build is still running", () => {
    const aborted = new ConnectError("The operation was aborted due to timeout", Code.Canceled);
    expect(toRegistryError(toBuildError(aborted), 10).message).toMatch(/^the build is still running/);
  });

  it("carries the builder's details: unknown packages, derivation, log tail, retry hint", () => {
    const detail = create(ErrorDetailSchema, { unknownPackages: ["nope"], derivation: "/nix/store/x.drv", logTail: "boom", retryAfterSeconds: 42 });
    const e = toBuildError(new ConnectError("m", Code.NotFound, undefined, [{ desc: ErrorDetailSchema, value: detail }]));
    expect([e.details.unknownPackages, e.details.derivation, e.details.logTail, e.details.retryAfterSeconds]).toEqual([["nope"], "/nix/store/x.drv", "boom", 42]);
  });

  it("takes the kind and plain message from the builder's detail: one vocabulary, not a guess from the status code", () => {
    const detail = create(ErrorDetailSchema, { kind: ErrorKind.CANCELLED, message: "every caller: gone" });
    const e = toBuildError(new ConnectError("every caller%3A gone", Code.Canceled, undefined, [{ desc: ErrorDetailSchema, value: detail }]));
    expect([e.kind, e.message]).toEqual(["cancelled", "every caller: gone"]);
    expect(toRegistryError(e, 10).message).toMatch(/^the build is still running/);
  });
});
