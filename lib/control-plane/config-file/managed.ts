// "Managed by the configuration file": the mark on providers, deployments, scaling policies and
// alert rules that a file applies, and the console's refusal to change them by hand (the next
// apply would undo it, so the file is where the change belongs).
import { ConflictError } from "../../platform/errors";

/** The managed_by value of objects a configuration file applied. */
export const MANAGED_BY_FILE = "file";

export function managedByFile(what: string, name: string): ConflictError {
  return new ConflictError(`${what} "${name}" is managed by the configuration file: change it there and apply the file.`, {
    code: "managed_by_file",
  });
}
