import { useState } from 'react';
import { Alert, Button, Typography } from '@mui/material';
import PowerSettingsNewIcon from '@mui/icons-material/PowerSettingsNew';
import { useKillSwitch } from '../../api/hooks';
import type { KillSwitchResult } from '../../api/models';
import { useAuth } from '../../auth/useAuth';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Section } from '../../components/Section';

/** The kill switch: flatten every position and pause every operation, after a confirmation (trader). */
export function KillSwitch() {
  const { can } = useAuth();
  const kill = useKillSwitch();
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<KillSwitchResult | null>(null);
  const allowed = can('trader');

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
      {result && (
        <Alert severity="success" sx={{ mt: 2 }} data-testid="kill-switch-result">
          {result.count === 0 ? 'Nothing was running.' : `${result.count} operation(s) flattened and paused.`}
        </Alert>
      )}
      <ConfirmDialog open={confirming} danger title="Flatten everything and pause all operations?"
        message="Every open position is closed at market now and every operation is paused. This cannot be undone."
        confirmLabel="Flatten and pause all" confirmWrapperTestId="kill-switch-confirm"
        onConfirm={async () => setResult(await kill.mutateAsync())} onClose={() => setConfirming(false)} />
    </Section>
  );
}
