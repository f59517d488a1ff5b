/**
 * Exports: the file is fetched with the session's bearer token (a plain link
 * could not carry it) and handed to the browser as a download, under the
 * name the hub gives in `Content-Disposition`.
 */
import type { HubApi } from "@aiclone/hub-client";

export function fileNameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
    } catch {
      // Fall through to the plain parameter.
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(disposition);
  const name = (plain?.[2] ?? plain?.[1] ?? "").trim();
  // Only a bare file name: never a path the browser could be steered by.
  return name ? name.replace(/[/\\]/g, "_") : fallback;
}

export interface ExportRequest {
  format: "csv" | "json" | "xlsx";
  data: "metrics" | "activities";
  time_range: string;
  tz: string;
}

/** Downloads the export; resolves with the file name used. */
export async function downloadExport(api: HubApi, request: ExportRequest): Promise<string> {
  const pending = api.client.GET("/api/analytics/export", {
    params: { query: request },
    parseAs: "blob",
  });
  const blob = (await api.unwrap(pending)) as unknown as Blob;
  const { response } = await pending;
  const name = fileNameFrom(
    response.headers.get("content-disposition"),
    `${request.data}-${request.time_range}.${request.format}`,
  );
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.rel = "noopener";
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // Give the browser a moment to start reading the blob before freeing it.
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}
