// Object ids in OpenAI's forms (file-…, batch_…): random, so one key cannot guess another's.
import { randomBytes } from "node:crypto";

const token = () => randomBytes(12).toString("hex");

export const newFileId = () => `file-${token()}`;
export const newBatchId = () => `batch_${token()}`;
