// Translated requests and answers carry only the fields that were set: an upstream (or a client)
// sees no `"stop": null` that the other side never sent.

/** The object without its null and undefined fields. */
export function withoutNulls<T extends Record<string, unknown>>(object: T): { [K in keyof T]: NonNullable<T[K]> } {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value != null)) as { [K in keyof T]: NonNullable<T[K]> };
}
