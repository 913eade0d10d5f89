/**
 * The package names a build accepts, checked before Nix is ever called. Names reach Nix
 * only as JSON data, so this grammar is a second fence, not the only one: it keeps out
 * anything that is not plainly an attribute path.
 */

/** One attribute name: Nix identifiers as package sets use them (`python3`, `gtk+`, `bashInteractive`). */
const COMPONENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_+-]*$/;
export const MAX_NAME_LENGTH = 128;
export const MAX_NAME_COMPONENTS = 6;
export const MAX_PACKAGES = 200;

/** Why `name` is not a package name, or null when it is one. */
export function packageNameProblem(name: string): string | null {
  if (typeof name !== "string" || name.length === 0) return "empty package name";
  if (name.length > MAX_NAME_LENGTH) return `package name longer than ${MAX_NAME_LENGTH} characters`;
  const parts = name.split(".");
  if (parts.length > MAX_NAME_COMPONENTS) return `package name with more than ${MAX_NAME_COMPONENTS} components`;
  for (const part of parts) {
    if (!COMPONENT_RE.test(part)) return `invalid package name ${JSON.stringify(name)}`;
  }
  return null;
}

/** Problems with a whole request's package list (empty list, too many, bad names). */
export function packageListProblems(names: readonly string[]): string[] {
  if (names.length === 0) return ["no packages requested"];
  if (names.length > MAX_PACKAGES) return [`more than ${MAX_PACKAGES} packages requested`];
  return names.map(packageNameProblem).filter((p): p is string => p !== null);
}
