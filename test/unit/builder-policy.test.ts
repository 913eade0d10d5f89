import { describe, expect, it } from "vitest";
import { BuildError } from "../../common/build-error.ts";
import { checkClosureSize, checkPackages, parsePackageList, type BuildPolicy } from "../../builder/policy.ts";

const refusal = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    expect((e as BuildError).kind).toBe("denied");
    return (e as BuildError).message;
  }
};

describe("package lists", () => {
  it("parses commas or spaces, lowercased; nothing set is no list", () => {
    expect(parsePackageList(" git,  python3Packages.* hello ")).toEqual(["git", "python3packages.*", "hello"]);
    expect(parsePackageList("")).toBeUndefined();
    expect(parsePackageList(undefined)).toBeUndefined();
  });

  const allow: BuildPolicy = { allow: ["hello", "python3packages.*", "bashinteractive"] };
  const deny: BuildPolicy = { deny: ["chromium", "texlive*"] };
  const both: BuildPolicy = { allow: ["python3packages.*"], deny: ["python3packages.tensorflow"] };
  const cases: [string, BuildPolicy, string[], string | null][] = [
    ["allowed exactly", allow, ["hello"], null],
    ["allowed by prefix, any case", allow, ["python3Packages.requests", "bashInteractive"], null],
    ["not on the allow list", allow, ["hello", "git", "jq"], "git, jq"],
    ["denied exactly", deny, ["git", "chromium"], "chromium"],
    ["denied by prefix", deny, ["texlive.combined.scheme-full"], "texlive.combined.scheme-full"],
    ["deny wins over allow", both, ["python3packages.requests", "python3packages.tensorflow"], "python3packages.tensorflow"],
    ["no lists", {}, ["anything"], null],
  ];
  it.each(cases)("%s", (_, policy, packages, refused) => {
    const message = refusal(() => checkPackages(policy, packages));
    if (refused === null) expect(message).toBeUndefined();
    else expect(message).toContain(`does not build ${refused} `);
  });
});

describe("closure size", () => {
  const graph = (sizes: number[]) => ({ roots: [], paths: sizes.map((narSize, i) => ({ path: `/nix/store/${i}-p`, narSize, references: [] })) });

  it("refuses a closure over the limit, naming its size and the limit", () => {
    const message = refusal(() => checkClosureSize({ maxClosureBytes: 2 * 1024 ** 3 }, graph([2 * 1024 ** 3, 512 * 1024 ** 2])));
    expect(message).toContain("2.5 GiB (2684354560 bytes)");
    expect(message).toContain("limit of 2.0 GiB (2147483648 bytes)");
  });

  it("accepts a closure at the limit, and any closure without one", () => {
    expect(refusal(() => checkClosureSize({ maxClosureBytes: 300 }, graph([100, 200])))).toBeUndefined();
    expect(refusal(() => checkClosureSize({}, graph([1e12])))).toBeUndefined();
  });
});
