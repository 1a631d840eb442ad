"use client";
export function FormError({ error }: { error: Error | null }) {
  return error ? (
    <p className="state state-error" role="alert">
      {error.message}
    </p>
  ) : null;
}

/** Splits "a, b ,c" into ["a", "b", "c"]. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}
