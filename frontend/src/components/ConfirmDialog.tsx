import { useState, type ReactNode } from 'react';
import { Alert, Box, Button, Dialog, DialogActions, DialogContent, DialogContentText, DialogTitle } from '@mui/material';
import { errorMessage } from '../api/errors';

export type ConfirmDialogProps = {
  open: boolean;
  title: string;
  /** what will happen, in plain words */
  message: ReactNode;
  confirmLabel?: string;
  /** red confirm button for destructive actions */
  danger?: boolean;
  /** runs on confirm; the dialog stays open (busy) until it settles, and shows its error */
  onConfirm: () => Promise<unknown> | void;
  onClose: () => void;
  /** an extra data-testid around the confirm button (e.g. `kill-switch-confirm`) */
  confirmWrapperTestId?: string;
};

/**
 * A confirmation (data-testid `confirm-dialog`, buttons `confirm-ok` and
 * `confirm-cancel`). While `onConfirm`'s promise runs, both buttons are
 * disabled; if it rejects, the error is shown and the dialog stays open.
 */
export function ConfirmDialog({
  open, title, message, confirmLabel = 'Confirm', danger = false, onConfirm, onClose, confirmWrapperTestId,
}: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setBusy(false);
      onClose();
    } catch (e) {
      setBusy(false);
      setError(e);
    }
  };

  const button = (
    <Button data-testid="confirm-ok" variant="contained" color={danger ? 'error' : 'primary'}
      onClick={() => void confirm()} disabled={busy} autoFocus>
      {busy ? 'Working…' : confirmLabel}
    </Button>
  );

  return (
    <Dialog open={open} onClose={close} data-testid="confirm-dialog" aria-labelledby="confirm-dialog-title">
      <DialogTitle id="confirm-dialog-title">{title}</DialogTitle>
      <DialogContent>
        <DialogContentText component="div">{message}</DialogContentText>
        {error !== null && <Alert severity="error" sx={{ mt: 2 }} data-testid="confirm-error">{errorMessage(error)}</Alert>}
      </DialogContent>
      <DialogActions>
        <Button data-testid="confirm-cancel" onClick={close} disabled={busy}>Cancel</Button>
        {confirmWrapperTestId
          ? <Box component="span" data-testid={confirmWrapperTestId} sx={{ display: 'inline-flex' }}>{button}</Box>
          : button}
      </DialogActions>
    </Dialog>
  );
}
