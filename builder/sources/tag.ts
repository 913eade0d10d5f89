import { isTag } from "../../common/names.ts";
import { BuildError } from "../../common/build-error.ts";

/** A tag that names a git commit: immutable, cached forever. */
export const COMMIT_RE = /^[0-9a-f]{40}$/;

/** The OCI tag grammar; a tag is then also safe as a git ref argument (it cannot start with '-'). */
export function checkTag(tag: string): void {
  if (!isTag(tag)) throw new BuildError("invalid_argument", `invalid tag ${JSON.stringify(tag)}`);
}
