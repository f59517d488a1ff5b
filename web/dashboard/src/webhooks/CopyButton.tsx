import { useEffect, useState } from "react";

/**
 * Copies `text` to the clipboard and says so. Where the browser refuses
 * (no permission, not a secure context), it says how to copy by hand.
 */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [result, setResult] = useState<"" | "copied" | "failed">("");
  useEffect(() => {
    if (!result) return;
    const timer = window.setTimeout(() => setResult(""), 4000);
    return () => window.clearTimeout(timer);
  }, [result]);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      setResult("copied");
    } catch {
      setResult("failed");
    }
  };
  return (
    <span className="copy">
      <button type="button" className="btn btn-small" onClick={() => void copy()}>
        {label}
      </button>
      <span className="copy-result" role="status">
        {result === "copied"
          ? "Copied to the clipboard."
          : result === "failed"
            ? "The browser refused; select the text and copy it."
            : ""}
      </span>
    </span>
  );
}
