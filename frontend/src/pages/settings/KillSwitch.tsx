import { useState } from 'react';
import { Alert, Box, Button, LinearProgress, Typography } from '@mui/material';
import PowerSettingsNewIcon from '@mui/icons-material/PowerSettingsNew';
import { errorMessage } from '../../api/errors';
import { useKillSwitch, useKillSwitchProgress } from '../../api/hooks';
import type { KillSwitchProgress, KillSwitchResult } from '../../api/models';
import { useAuth } from '../../auth/useAuth';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Section } from '../../components/Section';

type Outcome = KillSwitchProgress['results'][number]['outcome'];

function countOf(run: KillSwitchProgress, outcome: Outcome): number {
  return run.results.filter((r) => r.outcome === outcome).length;
}

/**
 * One sentence per press, e.g. "3 operation(s) paused: 2 flat, 1 with its exit still working at
 * the broker (the fill follows); 1 already paused and flat."
 */
function summary(result: KillSwitchResult): string {
  if (result.total === 0) return 'Nothing was running.';
  const closing = countOf(result, 'closing');
  const already = countOf(result, 'already');
  const failed = countOf(result, 'failed');
  if (result.count === 0 && already && !failed) {
    return `Nothing to do: ${already} operation(s) already paused and flat.`;
  }
  const parts = [closing
    ? `${result.count} operation(s) paused: ${result.count - closing} flat, ${closing} with its exit still `
      + 'working at the broker (the fill follows)'
    : `${result.count} operation(s) flattened and paused`];
  if (already) parts.push(`${already} already paused and flat`);
  if (failed) parts.push(`${failed} failed`);
  const joined = result.joined ? ' (another press was already running: this one joined it)' : '';
  return `${parts.join('; ')}.${joined}`;
}

function Progress({ run }: { run: KillSwitchProgress | undefined }) {
  const total = run?.total ?? 0;
  const done = run?.done ?? 0;
  return (
    <Box sx={{ mt: 2, maxWidth: 480 }} data-testid="kill-switch-progress">
      <LinearProgress color="error" variant={total ? 'determinate' : 'indeterminate'}
        value={total ? (100 * done) / total : undefined} />
      <Typography variant="caption" color="text.secondary">
        {total ? `${done} of ${total} operation(s) done` : 'Flattening…'}
      </Typography>
    </Box>
  );
}

/**
 * The kill switch: flatten every position and pause every operation, after a
 * confirmation (trader). While a run goes on (ours or someone else's) a bar
 * shows how many operations are done; the answer says what was done to each. The
 * confirmation closes at once: the press runs on the page, not in the dialog.
 */
export function KillSwitch() {
  const { can } = useAuth();
  const kill = useKillSwitch();
  const progress = useKillSwitchProgress(kill.isPending);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<KillSwitchResult | null>(null);
  const allowed = can('trader');
  // ours, or someone else's seen on the server (not the stale view of ours once it answered)
  const running = kill.isPending || (progress.data?.running === true && result === null);
  const failures = result?.results.filter((r) => r.outcome === 'failed') ?? [];

  return (
    <Section testId="kill-switch-section" title="Kill switch">
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        Closes every open position at market and pauses every operation. Operations stay paused until someone
        resumes them.
      </Typography>
      <Button variant="contained" color="error" startIcon={<PowerSettingsNewIcon />} data-testid="kill-switch"
        disabled={!allowed || kill.isPending} onClick={() => { setResult(null); setConfirming(true); }}>
        Kill switch
      </Button>
      {!allowed && <Typography variant="caption" color="text.secondary" sx={{ ml: 2 }}>Traders only</Typography>}
      {running && <Progress run={progress.data?.running ? progress.data : undefined} />}
      {result && !kill.isPending && (
        <Alert severity={failures.length ? 'error' : 'success'} sx={{ mt: 2 }} data-testid="kill-switch-result">
          {summary(result)}
          {failures.map((f) => (
            <Typography key={f.operation_id} variant="body2" data-testid="kill-switch-failed">
              {f.operation_id}: {f.detail}
            </Typography>
          ))}
        </Alert>
      )}
      {kill.isError && (
        <Alert severity="error" sx={{ mt: 2 }} data-testid="kill-switch-error">
          The kill switch did not answer: {errorMessage(kill.error)}. Check the operations before pressing again.
        </Alert>
      )}
      <ConfirmDialog open={confirming} danger title="Flatten everything and pause all operations?"
        message="Every open position is closed at market now and every operation is paused. This cannot be undone."
        confirmLabel="Flatten and pause all" confirmWrapperTestId="kill-switch-confirm"
        onConfirm={() => kill.mutate(undefined, { onSuccess: setResult })} onClose={() => setConfirming(false)} />
    </Section>
  );
}
