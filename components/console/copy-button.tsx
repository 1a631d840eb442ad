"use client";
import { useState } from "react";

export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [copied, setCopied] = useState<"idle" | "done" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("done");
    } catch {
      // Clipboard access needs a secure context or permission; the value stays selectable.
      setCopied("failed");
    }
  };
  return (
    <button type="button" className="button secondary" onClick={() => void copy()} aria-live="polite">
      {copied === "done" ? "Copied" : copied === "failed" ? "Select and copy it" : label}
    </button>
  );
}
