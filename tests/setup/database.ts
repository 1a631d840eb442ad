// Creates this run's own PostgreSQL database with the migrations applied, and drops it after.
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { adminUrl, createScratchDatabase } from "../helpers/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const name = `agenticorp_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const database = await createScratchDatabase(name, { migrate: true });
  project.provide("databaseUrl", database.url);
  return async () => database.drop();
}

export { adminUrl };
