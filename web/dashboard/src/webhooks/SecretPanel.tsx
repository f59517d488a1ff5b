import { useState } from "react";
import { useHubApi } from "@aiclone/hub-client/react";
import { toProblem } from "../hub/errors";
import { formatDateTime } from "../lib/format";
import { ConfirmDialog } from "./ConfirmDialog";
import { CopyButton } from "./CopyButton";

interface Revealed {
  secret: string;
  previousExpiresAt: string | null;
}

/**
 * The endpoint's signing secret: hidden until asked for, copied with one
 * click, rotated with the overlap explained. Read-only portal sessions may
 * not read it, so they only see that it exists.
 */
export function SecretPanel({
  webhookId,
  readOnly,
  signed,
}: {
  webhookId: string;
  readOnly: boolean;
  /** False for the Slack and Discord formats, whose deliveries carry no signature. */
  signed: boolean;
}) {
  const api = useHubApi();
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [busy, setBusy] = useState<"" | "reveal" | "rotate">("");
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [rotatedUntil, setRotatedUntil] = useState<string | null>(null);

  const reveal = async () => {
    setBusy("reveal");
    try {
      const s = await api.getWebhookSecret(webhookId);
      setRevealed({ secret: s.secret, previousExpiresAt: s.previous_secret_expires_at ?? null });
      setError(null);
    } catch (err) {
      setError(`Could not read the secret. ${toProblem(err).message}`);
    } finally {
      setBusy("");
    }
  };

  const rotate = async () => {
    setBusy("rotate");
    try {
      const r = await api.rotateWebhookSecret(webhookId);
      setRotatedUntil(r.previous_secret_expires_at);
      setConfirming(false);
      const s = await api.getWebhookSecret(webhookId);
      setRevealed({ secret: s.secret, previousExpiresAt: s.previous_secret_expires_at ?? null });
      setError(null);
    } catch (err) {
      setConfirming(false);
      setError(`Could not rotate the secret. ${toProblem(err).message}`);
    } finally {
      setBusy("");
    }
  };

  const overlapUntil = rotatedUntil ?? revealed?.previousExpiresAt ?? null;
  return (
    <section className="wh-section" aria-labelledby={`secret-${webhookId}`}>
      <h3 id={`secret-${webhookId}`}>Signing secret</h3>
      {signed ? (
        <p className="muted wh-help">
          Receivers verify the <code>webhook-signature</code> header of each delivery with this
          secret (Standard Webhooks).
        </p>
      ) : (
        <p className="muted wh-help" data-testid="unsigned-note">
          This endpoint&apos;s format sends unsigned messages (Slack and Discord do not check
          signatures, so keep the URL private). The secret signs deliveries only in the standard
          format.
        </p>
      )}
      {readOnly ? (
        <p className="muted wh-help">This link is read-only, so the secret is not shown.</p>
      ) : (
        <>
          <div className="secret-row">
            {revealed ? (
              <code className="secret" data-testid="webhook-secret">
                {revealed.secret}
              </code>
            ) : (
              <code className="secret secret-hidden" aria-label="Secret hidden">
                whsec_••••••••••••••••••••••••
              </code>
            )}
            <div className="secret-actions">
              {revealed ? (
                <>
                  <CopyButton text={revealed.secret} label="Copy secret" />
                  <button type="button" className="btn btn-small" onClick={() => setRevealed(null)}>
                    Hide
                  </button>
                </>
              ) : (
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => void reveal()}
                  disabled={busy !== ""}
                >
                  {busy === "reveal" ? "Revealing…" : "Reveal secret"}
                </button>
              )}
              <button
                type="button"
                className="btn btn-small"
                onClick={() => setConfirming(true)}
                disabled={busy !== ""}
              >
                Rotate secret
              </button>
            </div>
          </div>
          {overlapUntil ? (
            <p className="alert alert-info" role="status">
              The secret was rotated. Until {formatDateTime(overlapUntil)} every delivery carries
              two signatures, one made with the new secret and one with the old, so receivers can
              switch over without rejecting anything.
            </p>
          ) : null}
          {error ? (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          ) : null}
          <ConfirmDialog
            open={confirming}
            title="Rotate the signing secret?"
            confirmLabel="Rotate"
            busy={busy === "rotate"}
            onConfirm={() => void rotate()}
            onCancel={() => setConfirming(false)}
          >
            <p>
              A new secret is made now. For the next 24 hours the old and the new secret both sign
              each delivery, so a receiver still using the old one keeps working while you update
              it. After that only the new secret signs.
            </p>
          </ConfirmDialog>
        </>
      )}
    </section>
  );
}
